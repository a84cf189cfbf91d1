"""What a dialog may do while handling one message, bound to that message's transaction.

Dialog callbacks call these; nothing here commits. The engine commits state, replies (as outbox
rows), cases and tasks together once the dialog returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cases, texts
from bot.enums import Role
from bot.models import Case, Conversation, Staff, StaffTask
from bot.portfolio.records import ClientInfo, SystemOfRecord
from bot.rules import role_names
from bot.settings import Settings


@dataclass
class TurnServices:
    session: Session
    conversation: Conversation
    records: SystemOfRecord
    settings: Settings
    now: datetime
    client: ClientInfo | None = None
    replies: list[str] = field(default_factory=list)
    opened_cases: list[Case] = field(default_factory=list)
    documents_kept: bool = False  # files of this message were kept by the dialog for its case

    # --- replies -------------------------------------------------------------------------
    def say(self, template: str, **context) -> None:
        context.setdefault("client", self.client)
        context.setdefault("channel", self.conversation.channel)
        self.replies.append(texts.render(template, **context))

    # --- the client --------------------------------------------------------------------------
    def identify(self, client: ClientInfo) -> None:
        self.client = client
        self.conversation.client_id = client.id

    def staff_id(self, username: str | None) -> int | None:
        if not username:
            return None
        return self.session.scalar(select(Staff.id).where(Staff.username == username))

    # --- cases and people --------------------------------------------------------------------
    def open_case(self, *, tramite: str, role: str, summary: str = "", data: dict | None = None,
                  quoted_costs: list | None = None, requirements: list | None = None) -> Case:
        # The procedure starts most trámites with the client's own ejecutivo(a).
        assignee = self.staff_id(self.client.ejecutivo_username) if role == Role.EJECUTIVO else None
        case = cases.open_case(
            self.session,
            tramite=tramite,
            client_id=self.client.id,
            conversation_id=self.conversation.id,
            role=role,
            assignee_id=assignee,
            now=self.now,
            summary=summary,
            data=data,
            quoted_costs=quoted_costs,
            requirements=requirements,
        )
        self.opened_cases.append(case)
        return case

    def role_name(self, role: str) -> str:
        return role_names()[role]

    def handoff(self, *, reason: str) -> StaffTask:
        """Hand the conversation to a person: the bot goes silent and a task is queued."""
        self.conversation.mode = "human"
        assignee = self.staff_id(self.client.ejecutivo_username) if self.client else None
        task = StaffTask(
            kind="handoff",
            status="abierta",
            assignee_id=assignee,
            client_id=self.client.id if self.client else None,
            conversation_id=self.conversation.id,
            note=reason,
            created_at=self.now,
        )
        self.session.add(task)
        return task
