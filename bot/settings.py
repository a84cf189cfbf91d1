"""One typed settings object, read from the environment and `.env`.

Variable names have no prefix on purpose: operators and tooling rely on the exact
names given in the issues (DATABASE_URL, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, ...).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "postventa.sqlite3"


def normalise_database_url(url: str) -> str:
    """Procfile hosts hand out `postgres://`; SQLAlchemy wants an explicit driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    public_base_url: str = "http://127.0.0.1:8000"
    demo_mode: bool = False
    log_level: str = "INFO"
    timezone: str = "America/La_Paz"
    documents_dir: Path = PROJECT_ROOT / "var" / "documents"
    max_attachment_bytes: int = 10 * 1024 * 1024
    # A client's text beyond this is not read (nor stored): the client is told, the event logged.
    max_message_chars: int = 4000
    # Inbound messages one sender may have run through the dialog in any 60 seconds (sliding
    # window, counted in the database so every process agrees). Beyond it messages are stored for
    # staff but not answered, except one polite "please slow down" per minute. 0: no limit.
    inbound_rate_per_minute: int = 20

    # Minutes a client's message may wait in a held conversation (takeover) with no staff reply
    # before the client is told it was seen and the holder gets a task (bot/held.py); 0 = off.
    held_reply_minutes: float = 15  # fractions allowed (a demo or a browser test waits seconds)
    # Letters (bot/letters): the text of a PDF or a photo a client sends without words, read by
    # the worker (Tesseract OCR, Spanish model). Per document: seconds of OCR, pages read, pixels
    # of one image (a larger one is not decoded at all).
    letter_ocr_seconds: float = 90.0
    letter_max_pages: int = 5
    letter_max_pixels: int = 40_000_000

    # Observability (bot/observability): log lines as "json" (one object per line, with the
    # correlation id) or "text"; /metrics (Prometheus) only when METRICS_ENABLED, and then only
    # with "Authorization: Bearer METRICS_TOKEN" when a token is set.
    log_format: str = "text"
    metrics_enabled: bool = False
    metrics_token: SecretStr = SecretStr("")

    # Retention (bot/retention.py, a daily job at RETENTION_RUN_TIME local time): message bodies
    # and document files older than these days are blanked/deleted (rows kept, marked); cases
    # still open keep theirs. 0: keep forever.
    retention_days_messages: int = 0
    retention_days_documents: int = 0
    retention_run_time: str = "03:30"

    # Dialog behaviour
    identification_max_attempts: int = 3

    # Outbox delivery
    outbox_batch_size: int = 50
    outbox_max_attempts: int = 8
    # Sends in flight per worker (different conversations; each in order). 1 by default: a worker
    # killed mid-send repeats at most the one message in flight; N in flight may repeat up to N.
    outbox_concurrency: int = 1
    worker_poll_seconds: float = 1.0

    # Twilio / WhatsApp (issue 4 uses them; documented now so .env.example is complete)
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_whatsapp_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = ""
    # Approved WhatsApp templates (Content API ContentSid, HX...), one per purpose: the only
    # messages that may open a conversation outside the 24-hour window. Empty: not configured.
    twilio_template_reopen: str = ""
    twilio_template_case_update: str = ""
    twilio_template_payment_reminder: str = ""
    twilio_template_quality_check: str = ""
    twilio_template_loyalty_check: str = ""  # fidelización campaign (bot/campaigns/loyalty.py)
    twilio_template_preventive_offer: str = ""  # técnico preventivo (bot/campaigns/preventive.py)
    # Secret of a Twilio Webhooks Rule SharedKey; such webhooks are signed with HMAC-SHA256.
    twilio_webhook_shared_key: SecretStr = SecretStr("")
    # Downloads of one inbound media message before the client is told it could not be read.
    whatsapp_media_max_attempts: int = 6
    whatsapp_send_rate: float = 10  # Twilio API calls a second per sender (10 by default, 50 max for text)
    whatsapp_media_rate: float = 1.5  # of them, messages with media a second (Twilio's limit for media)

    # Email (issue 5)
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "ssl"
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_folder: str = "INBOX"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    email_from: str = ""
    email_from_name: str = "Comteco Empresas"
    # Where a processed letter goes (empty: it stays in IMAP_FOLDER, marked \Seen), where one that
    # failed goes for staff to look at, and where a copy of every sent email is kept (empty: none).
    imap_processed_folder: str = "Procesados"
    imap_review_folder: str = "Revisar"
    imap_sent_folder: str = ""
    # Polling interval for servers without IDLE (with IDLE new mail is noticed within a second).
    imap_poll_seconds: float = 60.0
    # PEM bundle trusted for IMAP/SMTP TLS instead of the system CAs (a server with a private CA).
    email_ca_file: str = ""
    # Automatic replies to one sender per hour; beyond it letters are stored but not answered.
    email_replies_per_hour: int = 10

    # Back-office (staff pages)
    # Signs session cookies and CSRF tokens. Empty: a random key is generated once and kept in
    # var/secret_key, which serves every process of one machine; set it for several machines.
    secret_key: SecretStr = SecretStr("")
    session_hours: int = 12
    login_window_minutes: int = 15
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    live_poll_seconds: float = 2.0

    # Campaigns (bot/campaigns). Mora: day of the month (1-28) of the monthly run, at MORA_RUN_TIME
    # local time; 0 turns the run off. A client who answers "ya pagué" or promises a date is
    # checked again MORA_FOLLOWUP_DAYS later.
    mora_run_day: int = 0
    mora_run_time: str = "09:00"
    mora_followup_days: int = 7
    # A campaign question (mora, fidelización, preventivo) left unanswered this many days frees the
    # conversation (back to the menu) and marks the send "sin_respuesta".
    campaign_answer_days: int = 7
    # Largest técnico preventivo list (CSV or XLSX) the back-office accepts, in bytes: a cartera of
    # thousands of rows is well under 1 MB; anything bigger is refused before it is parsed.
    preventive_list_max_bytes: int = 2 * 1024 * 1024
    # Daily report (procedure J.10/K.10): local time "HH:MM" of the end-of-day email to the
    # responsables and DAILY_REPORT_TO (comma-separated, e.g. the jefe de división); "" turns it off.
    # Weekends and Bolivian public holidays (national + HOLIDAYS_SUBDIVISION, C = Cochabamba) are skipped.
    daily_report_time: str = ""
    daily_report_to: str = ""
    holidays_subdivision: str = "C"
    # Set by the composition root, not by the environment: channels that DEMO_MODE stands in for
    # with the simulator because no adapter is installed (bot/app/wiring.py).
    _simulated: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def simulate(self, channels: tuple[str, ...]) -> None:
        self._simulated = tuple(channels)

    def delivery_channel(self, channel: str) -> str:
        """Where a message the bot starts (a campaign) goes: the simulator's twin of a channel
        DEMO_MODE simulates, else the channel itself."""
        return f"sim_{channel}" if channel in self._simulated else channel


@lru_cache
def get_settings() -> Settings:
    return Settings()
