"""Email tests run against real servers: Dovecot (IMAP, LMTP) and aiosmtpd (SMTP with STARTTLS
and AUTH, certificates from trustme), on the real engine over the demo portfolio."""
from __future__ import annotations

import itertools
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from pathlib import Path
from string import Template

import pytest
import trustme
from sqlalchemy import select

from bot.clock import ManualClock
from bot.models import Case, Message
from bot.portfolio import DEMO_CARTERA_DIR, import_cartera
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.email.sender import EmailChannel
from tests.conftest import service_missing
from tests.email.servers import DOVECOT, Dovecot, RecordingHandler, free_port, smtp_controller

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUR_ADDRESS = "empresas@comteco.bo"
SMTP_USER, SMTP_PASSWORD = "bot@comteco.bo", "smtp-secret"
NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 09:00 in La Paz
_users = itertools.count(1)


def letter(name: str, **values: str) -> bytes:
    """A fixture letter; `$name` placeholders (e.g. the Message-ID our email had) filled in."""
    text = (FIXTURES / name).read_text(encoding="ascii")
    # Non-ASCII values (our subject) go in as RFC 2047 encoded words, as a mail client writes them.
    values = {k: v if v.isascii() else Header(v, "utf-8").encode() for k, v in values.items()}
    return Template(text).substitute(values).encode("ascii")


# --- certificates --------------------------------------------------------------------------------
@dataclass
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def tls() -> Tls:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = Path(tempfile.mkdtemp(prefix="pv-tls-"))
    folder.chmod(0o755)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    for i, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(str(folder / "cert.pem"), append=i > 0)
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    yield Tls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem", context)
    shutil.rmtree(folder, ignore_errors=True)


# --- Dovecot -------------------------------------------------------------------------------------
def _require_dovecot() -> None:
    if DOVECOT is None:
        service_missing("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")


@pytest.fixture(scope="session")
def dovecot_server(tls) -> Dovecot:
    _require_dovecot()
    server = Dovecot(tls.cert_file, tls.key_file)
    server.start()
    yield server
    server.close()


@pytest.fixture
def private_dovecot(tls):
    """A Dovecot of this test alone, which the test may stop and start."""
    _require_dovecot()
    server = Dovecot(tls.cert_file, tls.key_file)
    server.start()
    yield server
    server.close()


@dataclass
class MailUser:
    server: Dovecot
    name: str
    password: str

    def deliver(self, raw: bytes, sender: str = "cliente@example.org") -> None:
        self.server.deliver(self.name, raw, sender=sender)

    def uids(self, folder: str) -> list[str]:
        return self.server.folder_uids(self.name, self.password, folder)

    def flags(self, folder: str = "INBOX") -> list[tuple]:
        with self.server.mailbox(self.name, self.password) as box:
            box.folder.set(folder)
            return [m.flags for m in box.fetch(mark_seen=False, headers_only=True)]


def new_user(server: Dovecot) -> MailUser:
    name, password = server.add_user(f"bot{next(_users)}")
    return MailUser(server, name, password)


@pytest.fixture
def mail_user(dovecot_server) -> MailUser:
    return new_user(dovecot_server)


# --- SMTP ----------------------------------------------------------------------------------------
@dataclass
class SmtpServer:
    handler: RecordingHandler
    port: int
    implicit_tls: bool

    @property
    def received(self):
        return self.handler.received


def _smtp(tls: Tls, *, implicit_tls: bool):
    handler = RecordingHandler()
    port = free_port()
    controller = smtp_controller(handler, port=port, tls_context=tls.server_context,
                                 implicit_tls=implicit_tls, auth=(SMTP_USER, SMTP_PASSWORD))
    controller.start()
    return controller, SmtpServer(handler, port, implicit_tls)


@pytest.fixture
def smtp_server(tls) -> SmtpServer:
    controller, server = _smtp(tls, implicit_tls=False)
    yield server
    controller.stop()


@pytest.fixture
def smtps_server(tls) -> SmtpServer:
    controller, server = _smtp(tls, implicit_tls=True)
    yield server
    controller.stop()


# --- the bot -------------------------------------------------------------------------------------
@pytest.fixture
def demo(db):
    with db.sessions.begin() as session:
        import_cartera(session, DEMO_CARTERA_DIR)
    return db


def email_settings(db, tmp_path: Path, tls: Tls, user: MailUser | None, smtp: SmtpServer | None,
                   **overrides) -> Settings:
    values = dict(
        database_url=db.url,
        documents_dir=tmp_path / "documents",
        email_from=OUR_ADDRESS,
        email_from_name="Comteco Empresas",
        email_ca_file=str(tls.ca_file),
    )
    if user is not None:
        values.update(imap_host="127.0.0.1", imap_port=user.server.imap_port, imap_security="plain",
                      imap_user=user.name, imap_password=user.password)
    if smtp is not None:
        values.update(smtp_host="127.0.0.1", smtp_port=smtp.port,
                      smtp_security="ssl" if smtp.implicit_tls else "starttls",
                      smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Bot:
    """The runtime as the worker runs it, with a manual clock: `poll()` is one worker pass."""

    def __init__(self, runtime, user: MailUser | None, smtp: SmtpServer | None):
        self.runtime = runtime
        self.user = user
        self.smtp = smtp
        self.clock: ManualClock = runtime.clock
        self.poller = runtime.email_poller

    def poll(self):
        """Fetch what arrived, deliver the outbox: `python -m bot worker --once`."""
        report = self.poller.poll_once(force=True)
        self.runtime.deliverer.deliver_due()
        return report

    def deliver_and_poll(self, raw: bytes):
        self.user.deliver(raw)
        return self.poll()

    def replies_to(self, address: str):
        return [r for r in self.smtp.received if address in r.rcpt_tos]

    def messages(self, **where) -> list[Message]:
        with self.runtime.sessions() as session:
            query = select(Message).order_by(Message.id)
            for key, value in where.items():
                query = query.where(getattr(Message, key) == value)
            return list(session.scalars(query))

    def cases(self) -> list[Case]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def session(self):
        return self.runtime.sessions()


@pytest.fixture
def make_bot(demo, tmp_path, tls):
    bots = []

    def make(user: MailUser | None, smtp: SmtpServer | None, **overrides) -> Bot:
        settings = email_settings(demo, tmp_path, tls, user, smtp, **overrides)
        runtime = build_runtime(settings, clock=ManualClock(NOW))
        if user is None and smtp is not None:
            # Outbound-only tests need no IMAP server; the channel is the same adapter.
            runtime.channels.register(EmailChannel(settings, runtime.sessions, clock=runtime.clock))
        bot = Bot(runtime, user, smtp)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        if bot.poller is not None:
            bot.poller.close()
        bot.runtime.engine.dispose()


@pytest.fixture
def bot(make_bot, mail_user, smtp_server) -> Bot:
    return make_bot(mail_user, smtp_server)
