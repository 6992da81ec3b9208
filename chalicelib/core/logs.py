"""JSON log lines: one object per line, data in fields rather than in the message.

Every line carries a UTC timestamp and, inside an invocation, its request id: the entry point
binds it with `request_context`, and every logger under `s3once` (a processor's included)
writes through the same formatter. The level follows Lambda's `AWS_LAMBDA_LOG_LEVEL`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.errors import ConfigurationError

LOGGER_NAME = "s3once"
LEVEL_VARIABLE = "AWS_LAMBDA_LOG_LEVEL"
HANDLER_NAME = "s3once-json-lines"
_FIELDS = "s3once_fields"
# Built once: json.dumps with options builds a new encoder for every line.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)
# Lambda's level names (advanced logging controls) and Python's equivalents.
_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
}
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "s3once_request_id", default=None
)


@contextlib.contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Every line logged inside carries `request_id`."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


def timestamp(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-01-01T12:00:00.123Z."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    """The application's logger, writing JSON lines to stdout (CloudWatch on Lambda).

    A processor asks for `s3once.<its name>`: its lines go through the same handler."""
    root = logging.getLogger(LOGGER_NAME)
    if not any(handler.get_name() == HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    return logging.getLogger(name)


def log_level(environ: Mapping[str, str]) -> int:
    """The level `AWS_LAMBDA_LOG_LEVEL` names (INFO when unset)."""
    raw = environ.get(LEVEL_VARIABLE, "").strip().upper()
    if not raw:
        return logging.INFO
    if raw not in _LEVELS:
        raise ConfigurationError(f"{LEVEL_VARIABLE}={raw!r} is not one of: {', '.join(_LEVELS)}")
    return _LEVELS[raw]


def configure_level(environ: Mapping[str, str]) -> None:
    get_logger().setLevel(log_level(environ))


def log(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """One JSON line. The record is made directly: `Logger.log` would also walk the stack to
    find the caller's file and line, which the line does not show."""
    if logger.isEnabledFor(level):
        record = logger.makeRecord(
            logger.name, level, "", 0, message, (), None, None, {_FIELDS: fields}
        )
        logger.handle(record)
