"""The WhatsApp tests' real app + fake Twilio fixtures, reused here."""
from tests.whatsapp.conftest import clock, demo, twilio, wa, whatsapp_factory  # noqa: F401
