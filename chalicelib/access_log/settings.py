"""The access-log processor's own settings, read from the environment into a frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.settings import choice, required

ACCESS_LOG_FORMATS = ("auto", "s3", "combined")


@dataclass(frozen=True)
class AccessLogSettings:
    aggregates_table_name: str
    log_format: str = "auto"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AccessLogSettings:
        return cls(
            aggregates_table_name=required(environ, "AGGREGATES_TABLE_NAME"),
            log_format=choice(environ, "ACCESS_LOG_FORMAT", ACCESS_LOG_FORMATS, "auto"),
        )
