"""The scheduled reconciliation's settings: where the inventory reports are, and how much one
run may read. `INVENTORY_LOCATION` is read at import (it decides whether the schedule exists)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.core.errors import ConfigurationError
from chalicelib.core.settings import optional_int

LOCATION_VARIABLE = "INVENTORY_LOCATION"
MAX_ROWS_VARIABLE = "INVENTORY_MAX_OBJECTS_PER_RUN"
DEFAULT_MAX_ROWS = 100_000
SCHEDULE_MINUTES = 15  # a run when nothing is new costs one ListObjectsV2 and one GetItem


class ReconcileSettings(NamedTuple):
    bucket: str  # the destination bucket the reports are written to
    prefix: str  # `<destination-prefix>/<source-bucket>/<config-id>/`
    max_rows_per_run: int = DEFAULT_MAX_ROWS

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ReconcileSettings:
        raw = inventory_location(environ)
        if raw is None:
            raise ConfigurationError(f"{LOCATION_VARIABLE} must be set (see docs/configuration.md)")
        bucket, _, prefix = raw.removeprefix("s3://").partition("/")
        return cls(
            bucket=bucket,
            prefix=prefix.rstrip("/") + "/" if prefix.strip("/") else "",
            max_rows_per_run=optional_int(environ, MAX_ROWS_VARIABLE, 100, 100_000_000)
            or DEFAULT_MAX_ROWS,
        )


def inventory_location(environ: Mapping[str, str]) -> str | None:
    """`s3://dest-bucket/prefix/src-bucket/config-id/`, or None when the stage has none."""
    raw = environ.get(LOCATION_VARIABLE, "").strip()
    if not raw:
        return None
    if not raw.startswith("s3://") or not raw[5:].split("/", 1)[0]:
        raise ConfigurationError(
            f"{LOCATION_VARIABLE}={raw!r} is not an s3://bucket/prefix/ address"
            " (the inventory's destination, source bucket and configuration id)"
        )
    return raw
