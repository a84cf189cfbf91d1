"""IMAP connections from settings: TLS (993), STARTTLS (143), plain only when configured (tests)."""
from __future__ import annotations

import ssl

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.mailbox import BaseMailBox

from bot.settings import Settings

TIMEOUT_SECONDS = 60


def tls_context(settings: Settings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.email_ca_file or None)


def connect(settings: Settings, *, folder: str | None = None) -> BaseMailBox:
    host, port, security = settings.imap_host, settings.imap_port, settings.imap_security.lower()
    if security == "ssl":
        box: BaseMailBox = MailBox(host, port, timeout=TIMEOUT_SECONDS, ssl_context=tls_context(settings))
    elif security == "starttls":
        box = MailBoxStartTls(host, port, timeout=TIMEOUT_SECONDS, ssl_context=tls_context(settings))
    elif security == "plain":
        box = MailBoxUnencrypted(host, port, timeout=TIMEOUT_SECONDS)
    else:
        raise ValueError(f"IMAP_SECURITY must be ssl, starttls or plain, not {security!r}")
    box.login(settings.imap_user, settings.imap_password.get_secret_value(), initial_folder=folder)
    # imaplib keeps the capabilities announced before login; servers (Dovecot) list MOVE, UIDPLUS
    # and IDLE only after it, and imap-tools decides MOVE vs COPY+EXPUNGE from that list.
    typ, data = box.client.capability()
    if typ == "OK" and data and data[-1]:
        box.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
    return box


def ensure_folders(box: BaseMailBox, *names: str) -> None:
    for name in names:
        if name and not box.folder.exists(name):
            box.folder.create(name)
