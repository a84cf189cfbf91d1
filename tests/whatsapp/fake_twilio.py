"""A local stand-in for api.twilio.com: a real HTTP server on 127.0.0.1 that records every request.

- POST /2010-04-01/Accounts/{sid}/Messages.json needs basic auth (account SID + token) and answers
  201 with a message resource, or what the test scripted next (429, 500, 400 with a Twilio code).
- GET  .../Messages/{MM}/Media/{ME} needs basic auth and redirects (307) to /cdn/{ME}, like Twilio's
  redirect to its CDN; the CDN path serves the bytes with the declared Content-Type, no auth.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")
MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages/(\w+)/Media/(\w+)$")
CDN = re.compile(r"^/cdn/(\w+)$")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: list[tuple[str, str]] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)  # when it arrived (pacing tests)

    def value(self, name: str) -> str | None:
        values = self.values(name)
        return values[0] if values else None

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.form if k == name]


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[Recorded] = []
        self.scripted: deque[tuple[int, int | None]] = deque()  # (HTTP status, Twilio code)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_failures: dict[str, deque[int]] = {}
        self.media_redirects: dict[str, str] = {}
        self._lock = threading.Lock()
        self._count = 0
        self.latency = 0.0  # seconds each Messages.json call takes, as api.twilio.com's 50-300 ms
        self.latency_to: dict[str, float] = {}  # a slower answer for calls to these "To" addresses
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- scripting ---------------------------------------------------------------------------
    def answer_next(self, *responses: tuple[int, int | None]) -> None:
        """The next Messages.json calls get these (status, code) answers, then 201 again."""
        self.scripted.extend(responses)

    def add_media(self, media_sid: str, data: bytes, content_type: str, *, message_sid: str,
                  fail_with: tuple[int, ...] = (), redirect_to: str | None = None) -> str:
        """Serve a file; returns the URL Twilio would put in MediaUrl0 (on api.twilio.com).
        `fail_with`: statuses answered first; `redirect_to`: an absolute URL instead of our CDN."""
        self.media[media_sid] = (data, content_type)
        self.media_failures[media_sid] = deque(fail_with)
        if redirect_to:
            self.media_redirects[media_sid] = redirect_to
        return (f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}"
                f"/Media/{media_sid}")

    # --- what was asked ----------------------------------------------------------------------
    def sent(self) -> list[Recorded]:
        """Messages.json requests Twilio accepted (201)."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
                    and r.headers.get("x-fake-answer") == "201"]

    def posts(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def gets(self, prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(prefix)]

    def _next_sid(self) -> str:
        with self._lock:
            self._count += 1
            return f"SM{self._count:032x}"


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet test output
            pass

        def _record(self, form=()) -> Recorded:
            recorded = Recorded(self.command, urlsplit(self.path).path,
                                {k.lower(): v for k, v in self.headers.items()}, list(form))
            with fake._lock:
                fake.requests.append(recorded)
            return recorded

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
                  headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
            recorded = self._record(form)
            if not MESSAGES.match(recorded.path):
                return self._send(404, b"{}")
            latency = fake.latency_to.get(recorded.value("To") or "", fake.latency)
            if latency:
                time.sleep(latency)
            if not self._authorised():
                recorded.headers["x-fake-answer"] = "401"
                return self._send(401, json.dumps({"code": 20003, "message": "Authenticate",
                                                   "status": 401}).encode())
            with fake._lock:
                status, code = fake.scripted.popleft() if fake.scripted else (201, None)
            recorded.headers["x-fake-answer"] = str(status)
            if status != 201:
                body = {"code": code, "message": f"fake error {status}", "status": status,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}"}
                return self._send(status, json.dumps(body).encode())
            sid = fake._next_sid()
            values = dict(form)
            body = {"sid": sid, "account_sid": fake.account_sid, "status": "queued",
                    "to": values.get("To"), "from": values.get("From"), "body": values.get("Body", ""),
                    "num_media": str(len(recorded.values("MediaUrl"))), "direction": "outbound-api",
                    "api_version": "2010-04-01", "error_code": None, "error_message": None,
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json"}
            self._send(201, json.dumps(body).encode())

        def do_GET(self) -> None:
            recorded = self._record()
            media = MEDIA.match(recorded.path)
            if media:
                if not self._authorised():
                    return self._send(401, b"{}")
                media_sid = media.group(3)
                failures = fake.media_failures.get(media_sid)
                if failures:
                    return self._send(failures.popleft(), b"{}")
                if media_sid not in fake.media:
                    return self._send(404, b"{}")
                location = fake.media_redirects.get(media_sid, f"/cdn/{media_sid}")
                return self._send(307, b"", headers={"Location": location})
            cdn = CDN.match(recorded.path)
            if cdn and cdn.group(1) in fake.media:
                data, content_type = fake.media[cdn.group(1)]
                return self._send(200, data, content_type)
            self._send(404, b"{}")

    return Handler
