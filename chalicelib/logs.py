"""JSON log lines: one object per line, data in fields rather than in the message."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER_NAME = "s3once"
_FIELDS = "s3once_fields"
# Built once: json.dumps with options builds a new encoder for every line.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    """The application's logger, writing JSON lines to stdout (CloudWatch on Lambda)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """One JSON line. The record is made directly: `Logger.log` would also walk the stack to
    find the caller's file and line, which the line does not show."""
    if logger.isEnabledFor(level):
        record = logger.makeRecord(
            logger.name, level, "", 0, message, (), None, None, {_FIELDS: fields}
        )
        logger.handle(record)
