"""Control de calidad: when a case is resolved the bot asks the client whether the service now
works as requested. "Sí" closes the case as effective (this feeds Eficacia), "No" reopens it to the
ejecutivo with priority and the client's words, silence for 48 h becomes a call task.

Everything is a durable job (bot/scheduler.py), so a restart loses no pending check.
"""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cases, nlu, outbox, texts
from bot.enums import CaseStatus, EventKind
from bot.models import Case, Client, Conversation, StaffTask
from bot.rules import load_rules, tramites
from bot.scheduler import JobContext, schedule

QUESTION_JOB = "quality_check"
TIMEOUT_JOB = "quality_timeout"
RETRY_LATER = timedelta(hours=1)


@lru_cache
def rules() -> dict:
    return load_rules("quality.yaml")


def answer(text: str) -> bool | None:
    """True (works), False (does not), None (not understood)."""
    normalised = f" {nlu.normalise(text)} "
    if any(f" {phrase} " in normalised for phrase in _phrases("negative")):
        return False
    said = nlu.yes_no(text)
    if said is not None:
        return said
    if any(f" {phrase} " in normalised for phrase in _phrases("positive")):
        return True
    return None


@lru_cache
def _phrases(kind: str) -> tuple[str, ...]:
    return tuple(nlu.normalise(p) for p in rules()[kind])


def on_resolved(session: Session, case: Case, *, now) -> None:
    """Called when staff resolve a case: schedule the question (idempotent per resolution)."""
    if case.tramite not in rules()["tramites"] or case.conversation_id is None:
        return
    case.data = {**(case.data or {}), "quality": "pending"}
    schedule(session, kind=QUESTION_JOB, due_at=now, payload={"case_id": case.id}, now=now,
             dedupe_key=f"qc:{case.id}:{(case.resolved_at or now).isoformat()}")


def ask(ctx: JobContext) -> None:
    session, now = ctx.session, ctx.now
    case = session.get(Case, ctx.job.payload["case_id"])
    if (case.data or {}).get("quality") != "pending":
        return  # answered or reopened meanwhile
    conversation = session.scalars(
        select(Conversation).where(Conversation.id == case.conversation_id).with_for_update()
    ).one()
    if conversation.mode == "human" or conversation.dialog != "main":
        # The client is in the middle of something else, or a person holds the chat: ask later.
        schedule(session, kind=QUESTION_JOB, due_at=now + RETRY_LATER, payload=ctx.job.payload, now=now,
                 dedupe_key=f"qc:{case.id}:later:{now.isoformat()}")
        return
    conversation.dialog, conversation.state = "quality", "asked"
    conversation.data = {"case_id": case.id}
    client = session.get(Client, case.client_id)
    body = texts.render("quality_question", case=case, tramite=tramites()[case.tramite], client=client)
    outbox.enqueue(session, conversation=conversation, body=body, now=now, case_id=case.id,
                   payload={"purpose": "quality_check",
                            "variables": {"1": client.razon_social, "2": case.number}})
    cases.add_event(session, case=case, now=now, actor="bot", kind=EventKind.QUALITY_CHECK_SENT)
    schedule(session, kind=TIMEOUT_JOB, due_at=now + timedelta(hours=rules()["answer_hours"]),
             payload={"case_id": case.id}, now=now, dedupe_key=f"qct:{case.id}:{now.isoformat()}")


def timeout(ctx: JobContext) -> None:
    session, now = ctx.session, ctx.now
    case = session.get(Case, ctx.job.payload["case_id"])
    if (case.data or {}).get("quality") != "pending":
        return
    ask_ejecutivo_to_call(session, case, now=now, note="")
    conversation = session.get(Conversation, case.conversation_id, with_for_update=True)
    if conversation.dialog == "quality":
        conversation.dialog, conversation.state, conversation.data = "main", "menu", {}


def ask_ejecutivo_to_call(session: Session, case: Case, *, now, note: str) -> None:
    """No usable answer: the ejecutivo calls the client, as the procedure does by phone."""
    case.data = {**(case.data or {}), "quality": "no_answer"}
    client = session.get(Client, case.client_id)
    session.add(StaffTask(kind="quality_call", status="abierta", assignee_id=client.ejecutivo_id,
                          client_id=client.id, conversation_id=case.conversation_id, case_id=case.id,
                          note=note, created_at=now))
    cases.add_event(session, case=case, now=now, actor="bot", kind=EventKind.QUALITY_NO_ANSWER, detail={"note": note})


def confirm(session: Session, case: Case, *, now, words: str) -> None:
    case.data = {**(case.data or {}), "quality": "ok", "effective": True}
    case.status = CaseStatus.CERRADO
    case.closed_at = now
    cases.add_event(session, case=case, now=now, actor="bot", kind=EventKind.QUALITY_OK, detail={"words": words})


def reopen(session: Session, case: Case, *, now, words: str, sla_hours: int) -> None:
    """The client says it still does not work: back to the ejecutivo, first in her queue."""
    client = session.get(Client, case.client_id)
    data = dict(case.data or {})
    data.update(quality="failed", priority=True, reopened=data.get("reopened", 0) + 1)
    case.data = data
    case.status = CaseStatus.REABIERTO
    case.current_role = "ejecutivo"
    case.assignee_id = client.ejecutivo_id
    case.resolved_at = None
    case.due_at = now + timedelta(hours=sla_hours)
    cases.add_event(session, case=case, now=now, actor="bot", kind=EventKind.QUALITY_FAILED, detail={"words": words})


HANDLERS = {QUESTION_JOB: ask, TIMEOUT_JOB: timeout}
