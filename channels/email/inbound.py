"""The IMAP poller: new letters of IMAP_FOLDER -> Ingestor, resumable by UID, one at a time.

Per letter: fetch with BODY.PEEK (flags untouched) -> ingest (the engine commits) -> only then
\\Seen and a move to IMAP_PROCESSED_FOLDER. A worker killed anywhere in between leaves the letter
unseen in the folder; the next pass fetches it again and the engine's UNIQUE (channel, Message-ID)
turns the second try into a no-op, so it is processed exactly once. A letter that fails goes to
IMAP_REVIEW_FOLDER with the error in `inbound_failures`, and the loop goes on. The database being
down is not the letter's fault: the pass stops and the letter stays where it is.

(UIDVALIDITY, last UID) is kept in `mailbox_states` and in memory, so a pass asks the database
nothing before it has fetched. `poll_once` is a worker task called about every second: with IDLE
it only looks at the idling connection (no traffic) and fetches when the server announced mail;
without IDLE it polls every IMAP_POLL_SECONDS. A lost connection is retried with backoff.
"""
from __future__ import annotations

import imaplib
import logging
import re
import select
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta

from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import encode_folder
from sqlalchemy import select as sql_select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.db import session_scope
from bot.models import InboundFailure, MailboxState
from bot.observability import correlation
from bot.settings import Settings
from channels.email import mailbox
from channels.email.ingest import CHANNEL, Ingestor, external_id
from channels.email.parse import parse

log = logging.getLogger(__name__)

FETCH_BATCH = 50
IDLE_RENEW = timedelta(minutes=10)  # RFC 2177: re-issue IDLE well before 29 minutes
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 300
UID_IN_FETCH = re.compile(rb"UID (\d+)")
CONNECTION_ERRORS = (imaplib.IMAP4.error, OSError, ssl.SSLError, socket.timeout, EOFError, ConnectionError)


def reconnect_delay(failures: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS))


@dataclass
class PollReport:
    fetched: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    error: str = ""  # the connection problem of this pass, if any


class MailboxPoller:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], ingestor: Ingestor, *,
                 clock: Clock):
        self.settings = settings
        self.sessions = sessions
        self.ingestor = ingestor
        self.clock = clock
        self.account = f"{settings.imap_user}@{settings.imap_host}"
        self.folder = settings.imap_folder
        self.box: BaseMailBox | None = None
        self.idling = False
        self.cursor: tuple[int, int] | None = None  # (UIDVALIDITY, last UID) as stored
        self.uidvalidity = 0  # of the selected folder
        self.failures = 0
        self.retry_at: datetime | None = None
        self.next_poll_at: datetime | None = None
        self.idle_since: datetime | None = None
        self._idle_buffer = b""
        self._empty_reads = 0

    # --- the worker task -------------------------------------------------------------------------
    def poll_once(self, *, force: bool = False) -> PollReport:
        """One worker pass. `force` fetches even when the idling server announced nothing (IDLE
        notifications can lag a delivery by a moment; tests and scripts want "now")."""
        now = self.clock.now()
        if self.retry_at is not None and now < self.retry_at:
            return PollReport()
        try:
            if self.box is not None and not force and not self._news_due(now):
                return PollReport()
            report = self._pass()
        except CONNECTION_ERRORS as exc:
            self.close()
            self.failures += 1
            self.retry_at = self.clock.now() + reconnect_delay(self.failures)
            log.warning("IMAP %s unavailable (%s: %s); retry in %s", self.account, type(exc).__name__, exc,
                        reconnect_delay(self.failures))
            return PollReport(error=f"{type(exc).__name__}: {exc}")
        self.failures = 0
        self.retry_at = None
        return report

    def close(self) -> None:
        box, self.box, self.idling = self.box, None, False
        if box is not None:
            try:
                box.client.shutdown()
            except Exception:  # noqa: BLE001 - it is going away anyway
                pass

    # --- connection and IDLE -------------------------------------------------------------------
    def _connect(self) -> BaseMailBox:
        box = mailbox.connect(self.settings, folder=None)
        mailbox.ensure_folders(box, self.settings.imap_processed_folder, self.settings.imap_review_folder)
        box.folder.set(self.folder)
        # UIDVALIDITY comes with SELECT and cannot change while the folder is selected (RFC 3501);
        # STATUS on the selected folder may answer from a stale snapshot, so it is not used.
        _, data = box.client.response("UIDVALIDITY")
        if not data or data[0] is None:
            raise imaplib.IMAP4.error(f"no UIDVALIDITY when selecting {self.folder!r}")
        self.uidvalidity = int(data[-1])
        self.box = box
        log.info("IMAP %s connected (%s)", self.account, "IDLE" if self._has_idle() else "polling")
        return box

    def _has_idle(self) -> bool:
        return self.box is not None and "IDLE" in self.box.client.capabilities

    def _news_due(self, now: datetime) -> bool:
        """Whether this call should fetch: the idling server announced mail, IDLE is due for
        renewal, or (no IDLE) the polling interval has passed."""
        if not self.idling:
            return self.next_poll_at is None or now >= self.next_poll_at
        if self._idle_announced():
            return True
        return self.idle_since is not None and now - self.idle_since >= IDLE_RENEW

    def _idle_announced(self) -> bool:
        """Read, without waiting, what the server said while idling: EXISTS means new mail.
        The reads go through imaplib's buffered file, so lines already buffered are not missed;
        an untagged EXISTS that came with the IDLE continuation sits in untagged_responses."""
        client = self.box.client
        if client.untagged_responses.pop("EXISTS", None):
            return True
        announced = got_any = False
        client.sock.settimeout(0)
        try:
            while True:
                try:
                    chunk = client.file.readline()
                except (BlockingIOError, ssl.SSLWantReadError):
                    chunk = None
                if not chunk:
                    break
                got_any = True
                self._idle_buffer += chunk
                while b"\n" in self._idle_buffer:
                    line, self._idle_buffer = self._idle_buffer.split(b"\n", 1)
                    if line.startswith(b"* BYE"):
                        raise ConnectionError(f"IMAP server said {line.decode(errors='replace').strip()}")
                    announced |= line.endswith((b"EXISTS\r", b"EXISTS")) or b"RECENT" in line
            if not got_any and select.select([client.sock], [], [], 0)[0] and self._closed(client.sock):
                raise ConnectionError("the IMAP server closed the connection")
            if got_any:
                self._empty_reads = 0
            return announced
        finally:
            client.sock.settimeout(mailbox.TIMEOUT_SECONDS)

    def _closed(self, sock) -> bool:
        """Readable, yet nothing came out: end of stream. A TLS socket cannot be peeked and may
        be readable for a record without data, so it takes two such checks in a row."""
        if not isinstance(sock, ssl.SSLSocket):
            try:
                return sock.recv(1, socket.MSG_PEEK) == b""
            except (BlockingIOError, InterruptedError):
                return False
        self._empty_reads += 1
        return self._empty_reads >= 2

    def _start_idle(self) -> None:
        if self._has_idle():
            self.box.idle.start()
            self._idle_buffer, self._empty_reads = b"", 0
            self.idling = True
            self.idle_since = self.clock.now()
        else:
            self.next_poll_at = self.clock.now() + timedelta(seconds=self.settings.imap_poll_seconds)

    def _stop_idle(self) -> None:
        if self.idling:
            self.idling = False
            self.box.idle.stop()

    # --- one pass --------------------------------------------------------------------------------
    def _pass(self) -> PollReport:
        box = self.box or self._connect()
        self._stop_idle()
        report = PollReport()
        uidvalidity = self.uidvalidity
        if self.cursor is None or self.cursor[0] != uidvalidity:
            self.cursor = self._load_cursor(uidvalidity)
        last = self.cursor[1]
        box.client.noop()  # the server brings the session's view of the folder up to date
        # "n:*" always matches the highest UID, even when it is below n: filter here.
        uids = sorted(u for u in (int(x) for x in box.uids(f"UID {last + 1}:*")) if u > last)
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start:start + FETCH_BATCH]
            done: list[int] = []
            try:
                for uid, raw in self._fetch(box, chunk):
                    report.fetched += 1
                    if self._handle(box, uid, raw, report):
                        done.append(uid)
            finally:
                # Committed letters are filed together (two IMAP commands per batch, not per
                # letter); a crash before this leaves them unseen, and the retry is a no-op.
                self._file(box, done, self.settings.imap_processed_folder)
            self._save_cursor(uidvalidity, chunk[-1])
        self._start_idle()
        return report

    def _fetch(self, box: BaseMailBox, uids: list[int]):
        typ, data = box.client.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {data!r}")
        letters = {}
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                match = UID_IN_FETCH.search(item[0])
                if match:
                    letters[int(match.group(1))] = item[1]
        for uid in uids:
            if uid in letters:  # expunged meanwhile by someone else: nothing to do
                yield uid, letters[uid]

    def _handle(self, box: BaseMailBox, uid: int, raw: bytes, report: PollReport) -> bool:
        """True when the letter's transaction committed (or it was a duplicate)."""
        with correlation.bound(None):  # one id per letter, stored with it and logged at its reply's delivery
            return self._handle_letter(box, uid, raw, report)

    def _handle_letter(self, box: BaseMailBox, uid: int, raw: bytes, report: PollReport) -> bool:
        log.info("email fetched uid=%s (%s bytes)", uid, len(raw))
        try:
            result = self.ingestor.ingest(raw)
        except (OperationalError, InterfaceError):
            raise  # the database, not the letter: stop here, the letter stays unseen
        except Exception as exc:  # noqa: BLE001 - one bad letter must not stop the mailbox
            self._failed(box, uid, raw, exc, report)
            return False
        if result.outcome.duplicate:
            report.duplicates += 1
        else:
            report.processed += 1
        return True

    def _failed(self, box: BaseMailBox, uid: int, raw: bytes, exc: Exception, report: PollReport) -> None:
        log.exception("email uid=%s could not be processed; moved to %s", uid, self.settings.imap_review_folder)
        try:
            letter = parse(raw)
            sender, subject, ext_id = letter.sender, letter.subject, external_id(letter, raw)
        except Exception:  # noqa: BLE001
            sender, subject, ext_id = "", "", ""
        with session_scope(self.sessions) as session:
            session.add(InboundFailure(channel=CHANNEL, external_id=ext_id[:255], sender=sender[:254],
                                       subject=subject[:500], error=f"{type(exc).__name__}: {exc}"[:4000],
                                       created_at=self.clock.now()))
        report.failed += 1
        self._file(box, [uid], self.settings.imap_review_folder, seen=False)

    def _file(self, box: BaseMailBox, uids: list[int], folder: str, *, seen: bool = True) -> None:
        """After the commit: \\Seen, then into `folder` (if one is configured)."""
        if not uids:
            return
        client = box.client
        uid_set = ",".join(map(str, uids))
        if seen:
            client.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Seen)")
        if not folder:
            return
        target = encode_folder(folder)
        if "MOVE" in client.capabilities:
            typ, data = client.uid("MOVE", uid_set, target)
        else:
            typ, data = client.uid("COPY", uid_set, target)
            if typ == "OK":
                client.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
                # UID EXPUNGE touches only these letters; a plain EXPUNGE would also purge what
                # someone else marked deleted in the folder.
                typ, data = client.uid("EXPUNGE", uid_set) if "UIDPLUS" in client.capabilities \
                    else client.expunge()
        if typ != "OK":
            log.error("email uids %s could not be moved to %s: %r", uid_set, folder, data)

    # --- resumable state -----------------------------------------------------------------------
    def _load_cursor(self, uidvalidity: int) -> tuple[int, int]:
        with session_scope(self.sessions) as session:
            state = self._state(session)
            if state.uidvalidity != uidvalidity:
                # A recreated folder renumbers its letters: start over (Message-ID dedupe keeps
                # letters seen before from being processed twice).
                if state.uidvalidity:
                    log.warning("IMAP %s/%s UIDVALIDITY changed; rescanning", self.account, self.folder)
                state.uidvalidity, state.last_uid, state.updated_at = uidvalidity, 0, self.clock.now()
            return state.uidvalidity, state.last_uid

    def _save_cursor(self, uidvalidity: int, last_uid: int) -> None:
        with session_scope(self.sessions) as session:
            state = self._state(session)
            if state.uidvalidity == uidvalidity and state.last_uid < last_uid:
                state.last_uid, state.updated_at = last_uid, self.clock.now()
        self.cursor = (uidvalidity, last_uid)

    def _state(self, session: Session) -> MailboxState:
        query = sql_select(MailboxState).where(MailboxState.account == self.account,
                                               MailboxState.folder == self.folder)
        state = session.scalars(query.with_for_update()).one_or_none()
        if state is None:
            state = MailboxState(account=self.account, folder=self.folder, uidvalidity=0, last_uid=0,
                                 updated_at=self.clock.now())
            session.add(state)
            session.flush()
        return state
