"""One typed settings object, read from the environment and `.env`.

Variable names have no prefix on purpose: operators and tooling rely on the exact
names given in the issues (DATABASE_URL, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, ...).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, field_validator
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

    # Dialog behaviour
    identification_max_attempts: int = 3
    sla_hours: int = 24

    # Outbox delivery
    outbox_batch_size: int = 50
    outbox_max_attempts: int = 8
    worker_poll_seconds: float = 1.0

    # Twilio / WhatsApp (issue 4 uses them; documented now so .env.example is complete)
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_whatsapp_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = ""

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

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
