"""Configuration, read once from the environment into a frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.errors import ConfigurationError
from chalicelib.model import IdempotencyScope

PROCESSOR_NAMES = ("content-type", "access-log")
ACCESS_LOG_FORMATS = ("auto", "s3", "combined")
DEFAULT_PROCESSOR = "content-type"
DEFAULT_RECORD_TTL_DAYS = 30
# How long an acquisition holds its object unrenewed (LEASE_SECONDS overrides it); the holder
# renews it while it works, so a crashed worker holds its object at most this much longer.
DEFAULT_LEASE_SECONDS = 30
MAX_LEASE_SECONDS = 24 * 3600


class Settings(NamedTuple):
    bucket_name: str
    lock_table_name: str
    processor: str = DEFAULT_PROCESSOR
    scope: IdempotencyScope = IdempotencyScope.CONTENT
    lease_seconds: int | None = None
    record_ttl_days: int = DEFAULT_RECORD_TTL_DAYS
    access_log_format: str = "auto"
    aggregates_table_name: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every setting; the message names the variable at fault."""
        processor = _choice(environ, "PROCESSOR", PROCESSOR_NAMES, DEFAULT_PROCESSOR)
        return cls(
            bucket_name=_required(environ, "APP_BUCKET_NAME"),
            lock_table_name=_required(environ, "LOCK_TABLE_NAME"),
            processor=processor,
            scope=IdempotencyScope(
                _choice(
                    environ,
                    "IDEMPOTENCY_SCOPE",
                    tuple(scope.value for scope in IdempotencyScope),
                    IdempotencyScope.CONTENT.value,
                )
            ),
            lease_seconds=_optional_int(environ, "LEASE_SECONDS", 1, MAX_LEASE_SECONDS),
            record_ttl_days=_optional_int(environ, "RECORD_TTL_DAYS", 1, 3650)
            or DEFAULT_RECORD_TTL_DAYS,
            access_log_format=_choice(environ, "ACCESS_LOG_FORMAT", ACCESS_LOG_FORMATS, "auto"),
            aggregates_table_name=(
                _required(environ, "AGGREGATES_TABLE_NAME")
                if processor == "access-log"
                else environ.get("AGGREGATES_TABLE_NAME", "").strip() or None
            ),
        )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} must be set (see the configuration table in README.md)")
    return value


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return value


def _optional_int(environ: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={value} is out of range ({low} to {high})")
    return value
