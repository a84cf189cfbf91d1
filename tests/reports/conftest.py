"""The daily report runs in the real app and worker, mailing through the real SMTP server
(aiosmtpd) of the email tests: the campaign tests' fixtures serve here unchanged."""
from tests.campaigns.conftest import campaigns  # noqa: F401
from tests.email.conftest import smtp_server, tls  # noqa: F401
from tests.whatsapp.conftest import clock, twilio, whatsapp_factory  # noqa: F401
