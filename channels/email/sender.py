"""The outbound email adapter: outbox row -> multipart email over SMTP (aiosmtplib).

Every email carries our Message-ID (stable per outbound message, so a retry reuses it and is
returned as SendResult.external_id for bounce and reply matching), In-Reply-To/References from the
letter it answers (the engine copies the channel's `reply_payload` onto the outbox row), the case
number in the subject, and `Auto-Submitted: auto-replied` when the bot wrote it (RFC 3834).
A copy goes to the IMAP Sent folder when IMAP_SENT_FOLDER is set.
"""
from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import documents, texts
from bot.clock import Clock
from bot.messaging import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from bot.models import Case, Document, Message, Outbox
from bot.settings import Settings
from channels.email import loops, mailbox, threads

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 60
CONFIG_CODES = {530, 534, 535, 538}  # STARTTLS/auth trouble: ours to fix, worth retrying later


def _run(coroutine):
    """The outbox calls adapters synchronously; from inside a running event loop (an async
    route) the SMTP conversation gets a loop of its own in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Draft:
    message_id: str
    author: str
    body: str
    case_number: str
    thread: dict
    subject: str
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # filename, type, data


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *, clock: Clock):
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.domain = settings.email_from.rsplit("@", 1)[-1] if "@" in settings.email_from else "localhost"
        self.own = {a.lower() for a in (settings.email_from, settings.imap_user) if "@" in a}

    def send(self, message: OutboundMessage) -> SendResult:
        recipient = message.address.strip().lower()
        if recipient in self.own or loops.is_daemon(recipient) or "@" not in recipient:
            raise PermanentSendError(f"no email to {recipient!r}", code="suppressed")
        with self.sessions() as session:
            draft = self._draft(session, message)
        mime = self.compose(draft, recipient)
        _run(self._smtp(mime, recipient))
        self._copy_to_sent(mime)
        return SendResult(external_id=draft.message_id)

    # --- the email --------------------------------------------------------------------------------
    def _draft(self, session: Session, outbound: OutboundMessage) -> Draft:
        row = session.get(Message, outbound.message_id)
        case = session.get(Case, row.case_id) if row.case_id else None
        thread = {k: v for k, v in (outbound.payload or {}).items()
                  if k in ("in_reply_to", "references", "subject")}
        if not thread.get("in_reply_to"):
            thread = {**threads.fallback_thread(session, row), **{k: v for k, v in thread.items() if v}}
        subject = thread.get("subject") or self._thread_subject(session, row)
        return Draft(
            message_id=threads.make_message_id(row.id, row.created_at, self.domain),
            author=row.author,
            body=outbound.body,
            case_number=case.number if case else "",
            thread=thread,
            subject=subject,
            files=self._files(session, row, outbound.payload or {}),
        )

    def _thread_subject(self, session: Session, row: Message) -> str:
        """A staff reply has no subject of its own: reuse the one this conversation's emails had."""
        payloads = session.scalars(
            select(Outbox.payload).join(Message, Message.id == Outbox.message_id)
            .where(Message.conversation_id == row.conversation_id, Message.id < row.id)
            .order_by(Message.id.desc()).limit(20)
        ).all()
        return next((p["subject"] for p in payloads if p and p.get("subject")), "")

    def _files(self, session: Session, row: Message, payload: dict) -> list[tuple[str, str, bytes]]:
        """Documents to attach (e.g. the call detail): `{"document_id": N}` entries in the outbox
        payload's `attachments` or in the message's own attachments."""
        ids = [a["document_id"] for a in [*payload.get("attachments", []), *(row.attachments or [])]
               if isinstance(a, dict) and a.get("document_id")]
        files = []
        for document_id in dict.fromkeys(ids):
            document = session.get(Document, document_id)
            if document is None:
                raise PermanentSendError(f"document {document_id} does not exist", code="no_document")
            path = documents.resolve(self.settings.documents_dir, document.path)
            files.append((document.filename or path.name, document.content_type, path.read_bytes()))
        return files

    def compose(self, draft: Draft, recipient: str) -> EmailMessage:
        env = texts.environment()
        subject = " ".join(env.get_template("email/subject.txt").render(
            subject=draft.subject, case_number=draft.case_number).split())
        paragraphs = [p.split("\n") for p in re.split(r"\n\s*\n", draft.body.strip()) if p.strip()]
        context = {"body": draft.body.strip(), "paragraphs": paragraphs, "case_number": draft.case_number,
                   "subject": subject}
        mime = EmailMessage()
        mime["From"] = formataddr((self.settings.email_from_name, self.settings.email_from))
        mime["To"] = recipient
        mime["Subject"] = subject
        mime["Date"] = format_datetime(self.clock.now())
        mime["Message-ID"] = draft.message_id
        in_reply_to = draft.thread.get("in_reply_to", "")
        references = [r for r in draft.thread.get("references", []) if r.startswith("<")]
        if in_reply_to.startswith("<"):
            mime["In-Reply-To"] = in_reply_to
            if in_reply_to not in references:
                references.append(in_reply_to)
        if references:
            mime["References"] = " ".join(references[-threads.MAX_REFERENCES:])
        if draft.author == "bot":
            mime["Auto-Submitted"] = "auto-replied"
            # Asks Exchange/Outlook not to answer our automatic reply with an out-of-office.
            mime["X-Auto-Response-Suppress"] = "All"
        mime.set_content(env.get_template("email/reply.txt").render(**context).strip() + "\n")
        mime.add_alternative(env.get_template("email/reply.html").render(**context), subtype="html")
        for filename, content_type, data in draft.files:
            maintype, _, subtype = content_type.partition("/")
            mime.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                                filename=filename)
        return mime

    # --- transport --------------------------------------------------------------------------------
    async def _smtp(self, mime: EmailMessage, recipient: str) -> None:
        settings = self.settings
        security = settings.smtp_security.lower()
        kwargs: dict = {
            "hostname": settings.smtp_host,
            "port": settings.smtp_port,
            "timeout": SMTP_TIMEOUT_SECONDS,
            "use_tls": security == "ssl",
            "start_tls": security == "starttls",
        }
        if security in ("ssl", "starttls"):
            kwargs["tls_context"] = mailbox.tls_context(settings)
        if settings.smtp_user:
            kwargs.update(username=settings.smtp_user, password=settings.smtp_password.get_secret_value())
        try:
            await aiosmtplib.send(mime, sender=settings.email_from, recipients=[recipient], **kwargs)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [e.code for e in exc.recipients]
            if all(400 <= c < 500 for c in codes):
                raise TransientSendError(f"recipient deferred: {exc}") from exc
            raise PermanentSendError(f"recipient refused: {exc}", code=f"smtp_{max(codes)}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500 and exc.code not in CONFIG_CODES \
                    and not isinstance(exc, aiosmtplib.SMTPSenderRefused):
                raise PermanentSendError(f"SMTP {exc.code}: {exc.message}", code=f"smtp_{exc.code}") from exc
            raise TransientSendError(f"SMTP {exc.code}: {exc.message}") from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc

    def _copy_to_sent(self, mime: EmailMessage) -> None:
        folder = self.settings.imap_sent_folder
        if not folder or not self.settings.imap_host:
            return
        try:
            with mailbox.connect(self.settings, folder=None) as box:
                mailbox.ensure_folders(box, folder)
                box.append(mime.as_bytes(), folder, flag_set=["\\Seen"])
        except Exception:
            log.exception("could not copy message %s to the IMAP folder %s", mime["Message-ID"], folder)


def mail_sender(settings: Settings):
    """A `bot.messaging.MailSender` through this adapter's SMTP code (the daily report)."""
    channel = EmailChannel(settings, sessions=None, clock=Clock())

    def send_mail(mime: EmailMessage, recipient: str) -> None:
        _run(channel._smtp(mime, recipient))

    return send_mail
