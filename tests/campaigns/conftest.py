"""Campaign tests run the real app and worker: WhatsApp through the fake Twilio server, email
through the real SMTP server (aiosmtpd) of the email tests."""
from __future__ import annotations

import pytest

from channels.email.sender import EmailChannel
from tests.email.conftest import OUR_ADDRESS, SMTP_PASSWORD, SMTP_USER, smtp_server, tls  # noqa: F401
from tests.whatsapp.conftest import clock, twilio, wa, whatsapp_factory  # noqa: F401


@pytest.fixture
def campaigns(demo, whatsapp_factory, smtp_server, tls):  # noqa: F811
    """WhatsApp and SMTP wired into one runtime, mora every 5th at 09:00 La Paz."""

    def start(**overrides):
        values = {"mora_run_day": 5, "mora_run_time": "09:00", "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
                      "smtp_security": "starttls", "smtp_user": SMTP_USER, "smtp_password": SMTP_PASSWORD,
                      "email_from": OUR_ADDRESS, "email_ca_file": str(tls.ca_file)}
        values.update(overrides)
        app = whatsapp_factory(**values)
        # Outbound only: no IMAP server is needed, the adapter is the production one.
        app.runtime.channels.register(EmailChannel(app.runtime.settings, app.runtime.sessions,
                                                   clock=app.runtime.clock))
        app.smtp = smtp_server
        return app

    return start
