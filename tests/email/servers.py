"""Real mail servers for tests and the benchmark: Dovecot (IMAP + LMTP) and aiosmtpd (SMTP).

Dovecot runs from a throwaway config in a temporary folder: IMAP on a loopback port (plain and
STARTTLS), IMAPS on another, LMTP for delivery, a static plaintext password, Maildir storage.
Every user name logs in with PASSWORD and gets a Maildir of its own on first use, so one server
serves many tests, each with its own mailbox.
"""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from imap_tools import MailBoxUnencrypted

PASSWORD = "imap-secret"
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


CONFIG = """\
protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{root}/mail/%n/Maildir
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 0
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%n allow_all_users=yes
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"""


@dataclass
class Dovecot:
    """A Dovecot process of our own; `start()`/`stop()` can be called repeatedly (same mailboxes)."""

    cert_pem: Path
    key_pem: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pv-dovecot-")))
    imap_port: int = field(default_factory=free_port)
    imaps_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        # Dovecot's mail processes run as an unprivileged user: every folder on the way must be
        # reachable by it (pytest's tmp_path under /tmp/pytest-of-root is not).
        if os.geteuid() == 0:
            self.user, self.group = "nobody", "nogroup"
        else:
            entry = pwd.getpwuid(os.geteuid())
            self.user = entry.pw_name
            self.group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root / "mail", self.user, self.group)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(CONFIG.format(
            root=self.root, cert=self.cert_pem, key=self.key_pem, user=self.user, group=self.group,
            password=PASSWORD, imap_port=self.imap_port, imaps_port=self.imaps_port, lmtp_port=self.lmtp_port,
        ))

    def start(self) -> None:
        # A session of its own: stop() ends the master and every child (imap sessions included).
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)], start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for port in (self.imap_port, self.imaps_port, self.lmtp_port):
                wait_for_port(port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"dovecot did not start: {self.log()[-2000:]}") from None

    def stop(self) -> None:
        if self.process is None:
            return
        group = self.process.pid  # the session leader's pid is the group id
        try:
            os.killpg(group, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        # Children that outlive the master (imap sessions, log) go too.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None
        # The master's children close their listeners a moment after it exits.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.2).close()
                time.sleep(0.05)
            except OSError:
                return

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- mailboxes -------------------------------------------------------------------------------
    def add_user(self, name: str) -> tuple[str, str]:
        """Any name works (static passdb); this only says which credentials to use."""
        return name, PASSWORD

    def deliver(self, user: str, raw: bytes | Message, *, sender: str = "sender@example.org") -> None:
        """Deliver through LMTP, the way a real MTA hands mail to Dovecot."""
        data = raw if isinstance(raw, bytes) else raw.as_bytes()
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail(sender, [user], data)

    def append(self, user: str, password: str, raw: bytes, folder: str = "INBOX") -> None:
        with self.mailbox(user, password) as box:
            box.append(raw, folder)

    def mailbox(self, user: str, password: str = PASSWORD) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.imap_port).login(user, password)

    def folder_uids(self, user: str, password: str, folder: str) -> list[str]:
        with self.mailbox(user, password) as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder)
            return box.uids("ALL")


# --- SMTP ----------------------------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        from email import policy

        return message_from_bytes(self.raw, policy=policy.default)


class RecordingHandler:
    """aiosmtpd handler that keeps every message; can refuse the next N with a 4xx."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_next = 0
        self.refusal = "451 4.3.0 Try again later"
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return self.refusal
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content))
        return "250 OK"


def authenticator(user: str, password: str):
    """An aiosmtpd authenticator accepting exactly one user/password pair."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok)

    return check


def smtp_controller(handler, *, port: int, tls_context: ssl.SSLContext | None = None,
                    implicit_tls: bool = False, auth: tuple[str, str] | None = None):
    """STARTTLS (required) when a tls_context is given, implicit TLS with implicit_tls=True."""
    from aiosmtpd.controller import Controller

    kwargs: dict = {"hostname": "127.0.0.1", "port": port}
    if auth is not None:
        # With implicit TLS aiosmtpd does not see the session as TLS and would hide AUTH; the
        # connection is encrypted from the first byte anyway.
        kwargs.update(authenticator=authenticator(*auth),
                      auth_require_tls=tls_context is not None and not implicit_tls)
    if tls_context is not None and implicit_tls:
        kwargs["ssl_context"] = tls_context
        kwargs["server_hostname"] = "localhost"
    elif tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    else:
        kwargs["auth_require_tls"] = False
    controller = Controller(handler, **kwargs)
    return controller


def run(coro):
    return asyncio.run(coro)
