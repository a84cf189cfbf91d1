"""The WhatsApp fixtures (real app under uvicorn, fake Twilio) for the hostile-input tests; the
back-office ones are imported by the module that uses them (the two `clock`s differ)."""
from tests.whatsapp.conftest import clock, twilio, wa, whatsapp_factory  # noqa: F401
