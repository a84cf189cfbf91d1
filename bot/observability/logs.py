"""Process-wide logging: JSON lines (LOG_FORMAT=json) or text, each with the correlation id.

Log lines never carry a raw phone, email or NIT: the code logs them through bot.addresses.mask_*;
this module only adds the id and the shape.
"""
from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from bot.observability import correlation

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s"


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` to every record the handler emits (from any logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation.current() or "-"
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest and uvicorn swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                         "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)


def configure(*, level: str = "INFO", log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """Install our one handler on the root logger; calling it again replaces it (app factory and
    CLI may both call it)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "postventa", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.postventa = True
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    # transitions logs every callback at INFO: far too chatty for one line per message.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    return handler
