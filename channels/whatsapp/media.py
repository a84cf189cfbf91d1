"""Inbound media: a durable job per message downloads the files and hands them to the engine.

Downloads use HTTP basic auth (account SID + Auth Token) and follow Twilio's redirect to its CDN;
httpx drops the Authorization header when a redirect leaves the origin. Only Twilio's hosts (or
TWILIO_API_BASE_URL, for tests and local mocks) are ever contacted, on every hop: a forged MediaUrl
cannot make the bot fetch an internal address. At most max_attachment_bytes + 1 bytes are read, so
an oversized file is refused as too large without being held in memory whole.

A failed download is retried with backoff; the text of the message was already handled when it
arrived. After the last attempt the client is told politely and the job is marked failed.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.attachments import resolve_warning, warn_staff_later
from bot.clock import Clock
from bot.db import session_scope
from bot.engine import Engine
from bot.messaging import Attachment
from bot.models import Job, Message
from bot.outbox import backoff
from bot.scheduler import lease_due
from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_KIND = "whatsapp_media"
LEASE = timedelta(minutes=5)  # a worker that dies mid-job leaves it to be retried after this
TWILIO_API_HOST = "api.twilio.com"
REDIRECT_HOST_SUFFIXES = (".twiliocdn.com", ".twilio.com")


def enqueue(sessions: sessionmaker[Session], *, message_sid: str, media: list[Attachment],
            now: datetime) -> None:
    """One job per message, whatever Twilio retries: the dedupe key is unique."""
    with session_scope(sessions) as session:
        insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(Job)
            .values(kind=JOB_KIND, status="pending", due_at=now, attempts=0, last_error="",
                    dedupe_key=f"media:{message_sid}", created_at=now,
                    payload={"message_sid": message_sid,
                             "media": [{"url": a.url, "content_type": a.content_type, "filename": a.filename}
                                       for a in media]})
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )


class DownloadError(Exception):
    def __init__(self, reason: str, *, transient: bool):
        super().__init__(reason)
        self.transient = transient


def _origin(url) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    return parts.scheme, parts.hostname or "", parts.port


class MediaDownloader:
    def __init__(self, settings: Settings, *, timeout: float = 20.0):
        self.base_url = settings.twilio_api_base_url.rstrip("/")
        self.max_bytes = settings.max_attachment_bytes
        self.client = httpx.Client(
            auth=(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()),
            follow_redirects=True,
            max_redirects=5,
            timeout=httpx.Timeout(timeout, connect=5.0),
            event_hooks={"request": [self._check_host]},
        )

    def allowed(self, url) -> bool:
        if self.base_url and _origin(url) == _origin(self.base_url):
            return True
        scheme, host, _ = _origin(url)
        return scheme == "https" and (host == TWILIO_API_HOST or host.endswith(REDIRECT_HOST_SUFFIXES))

    def resolve(self, url: str) -> str:
        """The URL to fetch: Twilio's own, or the same path on TWILIO_API_BASE_URL when set."""
        scheme, host, _ = _origin(url)
        if self.base_url and scheme == "https" and host == TWILIO_API_HOST:
            parts = urlsplit(url)
            return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        if self.allowed(url):
            return url
        raise DownloadError(f"media URL outside Twilio: {url}", transient=False)

    def _check_host(self, request: httpx.Request) -> None:
        # Runs for the first request and for every redirect hop.
        if not self.allowed(request.url):
            raise DownloadError(f"redirect outside Twilio: {request.url.host}", transient=False)

    def fetch(self, url: str) -> bytes:
        try:
            with self.client.stream("GET", self.resolve(url)) as response:
                if response.status_code in (408, 429) or response.status_code >= 500:
                    raise DownloadError(f"HTTP {response.status_code}", transient=True)
                if response.status_code >= 400:
                    raise DownloadError(f"HTTP {response.status_code}", transient=False)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        break  # enough to know it is too large
                return bytes(data[: self.max_bytes + 1])
        except httpx.TooManyRedirects as exc:
            raise DownloadError(f"too many redirects: {exc}", transient=False) from exc
        except httpx.TransportError as exc:
            raise DownloadError(f"{type(exc).__name__}: {exc}", transient=True) from exc

    def close(self) -> None:
        self.client.close()


class MediaJobs:
    """Runs due `whatsapp_media` jobs; the worker calls `run_due` on every pass."""

    def __init__(self, sessions: sessionmaker[Session], engine: Engine, downloader: MediaDownloader, *,
                 clock: Clock, max_attempts: int = 6, batch_size: int = 20):
        self.sessions = sessions
        self.engine = engine
        self.downloader = downloader
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    def run_due(self) -> int:
        claimed = self._claim()
        for job_id, payload, attempts in claimed:
            try:
                self._run(job_id, payload, attempts)
            except Exception as exc:
                log.exception("media job %s crashed", job_id)
                if isinstance(exc, OSError):
                    # Disk full or documents folder unwritable: the files are fetched again on
                    # the retry; staff see a task in their queue meanwhile.
                    warn_staff_later(self.sessions, channel="whatsapp", external_id=payload["message_sid"],
                                     filenames=[item["filename"] for item in payload["media"]],
                                     error=f"{type(exc).__name__}: {exc}", now=self.clock.now())
                self._retry_or_fail(job_id, attempts, f"{type(exc).__name__}: {exc}")
        return len(claimed)

    def _claim(self) -> list[tuple[int, dict, int]]:
        """Lease due jobs and commit before any download starts."""
        return lease_due(self.sessions, kind=JOB_KIND, now=self.clock.now(), lease=LEASE,
                         limit=self.batch_size)

    def _run(self, job_id: int, payload: dict, attempts: int) -> None:
        with self.sessions() as session:
            message_id = session.scalar(select(Message.id).where(
                Message.channel == "whatsapp", Message.external_id == payload["message_sid"]))
        if message_id is None:
            self._finish(job_id, "failed", "message not recorded")
            return
        attachments: list[Attachment] = []
        failures: list[DownloadError] = []
        for item in payload["media"]:
            try:
                data = self.downloader.fetch(item["url"])
            except DownloadError as exc:
                log.info("media %s of %s: %s", item["url"], payload["message_sid"], exc)
                failures.append(exc)
                continue
            attachments.append(Attachment(filename=item["filename"], content_type=item["content_type"],
                                          data=data))
        error = "; ".join(str(f) for f in failures)
        if any(f.transient for f in failures) and attempts < self.max_attempts:
            self._reschedule(job_id, attempts, error)
            return
        notices = []
        if failures:
            notices.append(texts.render("whatsapp_media_failed", count=len(failures),
                                        max_mb=self.engine.settings.max_attachment_bytes // (1024 * 1024)))
        self.engine.receive_documents(message_id=message_id, attachments=attachments, notices=notices)
        with session_scope(self.sessions) as session:
            resolve_warning(session, channel="whatsapp", external_id=payload["message_sid"],
                            now=self.clock.now())
        self._finish(job_id, "failed" if failures else "done", error)

    def _retry_or_fail(self, job_id: int, attempts: int, error: str) -> None:
        if attempts < self.max_attempts:
            self._reschedule(job_id, attempts, error)
        else:
            self._finish(job_id, "failed", error)

    def _reschedule(self, job_id: int, attempts: int, error: str) -> None:
        with session_scope(self.sessions) as session:
            job = session.get(Job, job_id)
            job.due_at = self.clock.now() + backoff(attempts)
            job.last_error = error

    def _finish(self, job_id: int, status: str, error: str) -> None:
        with session_scope(self.sessions) as session:
            job = session.get(Job, job_id)
            job.status = status
            job.last_error = error
            job.finished_at = self.clock.now()
        if status == "failed":
            log.warning("media job %s failed for good: %s", job_id, error)
