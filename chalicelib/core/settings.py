"""The core's configuration, read from the environment into a frozen value.

The core knows no processor: `PROCESSOR` is only a name here, which the registry
(chalicelib/processors) resolves and whose own settings the processor reads itself. The
readers below are public so that a processor validates its settings the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.core.errors import ConfigurationError
from chalicelib.core.model import IdempotencyScope

BUCKET_VARIABLE = "APP_BUCKET_NAME"
DEFAULT_RECORD_TTL_DAYS = 30
# How long an acquisition holds its object unrenewed (LEASE_SECONDS overrides it); the holder
# renews it while it works, so a crashed worker holds its object at most this much longer.
DEFAULT_LEASE_SECONDS = 30
MAX_LEASE_SECONDS = 24 * 3600
# The shards of the lock table's open-work index (the operator's tool reads the same variable
# from the stage): docs/capacity.md has the arithmetic behind the default.
OPEN_SHARDS_VARIABLE = "OPEN_INDEX_SHARDS"
DEFAULT_OPEN_SHARDS = 32
MAX_OPEN_SHARDS = 1000


class Settings(NamedTuple):
    bucket_name: str
    lock_table_name: str
    processor: str | None = None  # None: the registry's default
    scope: IdempotencyScope = IdempotencyScope.CONTENT
    lease_seconds: int | None = None
    record_ttl_days: int = DEFAULT_RECORD_TTL_DAYS
    open_index_shards: int = DEFAULT_OPEN_SHARDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate the core's settings; the message names the variable at fault."""
        return cls(
            bucket_name=app_bucket_name(environ),
            lock_table_name=required(environ, "LOCK_TABLE_NAME"),
            processor=environ.get("PROCESSOR", "").strip() or None,
            scope=IdempotencyScope(
                choice(
                    environ,
                    "IDEMPOTENCY_SCOPE",
                    tuple(scope.value for scope in IdempotencyScope),
                    IdempotencyScope.CONTENT.value,
                )
            ),
            lease_seconds=optional_int(environ, "LEASE_SECONDS", 1, MAX_LEASE_SECONDS),
            record_ttl_days=optional_int(environ, "RECORD_TTL_DAYS", 1, 3650)
            or DEFAULT_RECORD_TTL_DAYS,
            open_index_shards=optional_int(environ, OPEN_SHARDS_VARIABLE, 1, MAX_OPEN_SHARDS)
            or DEFAULT_OPEN_SHARDS,
        )


def app_bucket_name(environ: Mapping[str, str]) -> str:
    """The one setting read at import: the bucket the function's S3 trigger names."""
    return required(environ, BUCKET_VARIABLE)


def required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} must be set (see docs/configuration.md)")
    return value


def choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return value


def optional_int(environ: Mapping[str, str], name: str, low: int, high: int) -> int | None:
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
