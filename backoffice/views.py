"""What the case and conversation pages show, gathered in one place for the page and its live
fragments alike."""
from __future__ import annotations

from sqlalchemy.orm import Session

from backoffice import canned, diagrams, policy, repository, takeover
from backoffice.web import Current, NotFound
from bot.models import Case, Client, Conversation
from bot.rules import tramites
from dialogs.registry import dialogs


def load_case(session: Session, me: Current, case_id: int) -> Case:
    case = repository.case_by_id(session, case_id)
    if case is None:
        raise NotFound()
    if not policy.may_view(me.staff, case, acted=repository.has_acted(session, case, me.staff.username)):
        raise policy.Forbidden("view")
    return case


def load_conversation(session: Session, me: Current, conversation_id: int) -> tuple[Conversation, list[Case]]:
    conversation = repository.conversation(session, conversation_id)
    if conversation is None:
        raise NotFound()
    related = repository.cases_of_conversation(session, conversation.id)
    if not policy.may_page(me.staff, "take_over_conversation") and not any(
            policy.may_view(me.staff, c, acted=repository.has_acted(session, c, me.staff.username))
            for c in related):
        raise policy.Forbidden("view")
    return conversation, related


def conversation_context(session: Session, me: Current, conversation: Conversation | None,
                         case: Case | None, *, composer: bool = False) -> dict:
    """`composer`: the full page (its reply box needs the canned responses); the live fragments,
    polled every few seconds, do not render it."""
    if conversation is None:
        return {"conversation": None, "canned": [], "holder": None, "window": None, "may_take_over": False,
                "hand_back_steps": list(takeover.HAND_BACK_STEPS), "dialog_state": None, "diagram": None}
    holder = repository.staff_by_id(session, conversation.held_by_id)
    dialog = dialogs().get(conversation.dialog)
    return {
        "canned": _canned(session, me, conversation, case) if composer else [],
        "conversation": conversation,
        "holder": holder,
        "window": takeover.window(conversation, me.now),
        "may_take_over": takeover.may_take_over(me.staff, case),
        "hand_back_steps": list(takeover.HAND_BACK_STEPS),
        "dialog_state": {"dialog": conversation.dialog, "state": conversation.state,
                         "known": dialog is not None and conversation.state in dialog.state_names},
        "diagram": diagrams.layout(dialog) if dialog is not None else None,
    }


def _canned(session: Session, me: Current, conversation: Conversation, case: Case | None) -> list:
    if conversation.held_by_id != me.staff.id:
        return []  # only the holder writes
    tramite = tramites().get(case.tramite) if case is not None else None
    client = session.get(Client, conversation.client_id) if conversation.client_id else None
    return canned.responses(client=client, case=case, staff=me.staff, tramite_name=tramite.name if tramite else "")


def case_context(session: Session, me: Current, case: Case, *, composer: bool = False) -> dict:
    conversation = repository.conversation(session, case.conversation_id)
    conversation_ids = repository.client_conversation_ids(session, case)
    return {
        "case": case,
        "client": case.client,
        "assignee": repository.staff_by_id(session, case.assignee_id),
        "events": repository.events(session, case.id),
        "timeline": repository.timeline(session, conversation_ids, case_id=case.id),
        "documents": repository.case_documents(session, case.id),
        "actions": policy.allowed_actions(me.staff, case),
        "derive_targets": [r for r in policy.derive_targets(me.staff) if r != case.current_role],
        "assignable": repository.staff_of_role(session, case.current_role),
        **conversation_context(session, me, conversation, case, composer=composer),
    }


def conversation_page_context(session: Session, me: Current, conversation: Conversation,
                              related: list[Case], *, composer: bool = False) -> dict:
    return {
        "timeline": repository.timeline(session, [conversation.id]),
        "related_cases": related,
        "client": session.get(Client, conversation.client_id) if conversation.client_id else None,
        **conversation_context(session, me, conversation, None, composer=composer),
    }
