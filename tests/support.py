"""Constants and helpers shared by tests (imported as `tests.support`)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The small portfolio of tests/engine/conftest.py
NIT = "1023456029"
OTHER_NIT = "3344556011"
PHONE = "+59170000001"
EMAIL = "contabilidad@empresa.bo"
