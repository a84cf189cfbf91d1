"""The back-office tests' signed-in staff fixtures, reused to look at a case after retention."""
from tests.backoffice.conftest import app, clock, login, runtime, staff  # noqa: F401
