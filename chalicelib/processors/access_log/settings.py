"""The access-log processor's own settings, read once from the environment into a frozen value.

Every limit has a default chosen for real logs (see docs/access-log.md) and a
range that keeps every counter the processor can produce far inside DynamoDB's 38 digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.core.settings import choice, optional_int, required
from chalicelib.processors.access_log.formats import LogFormat

AUTO = "auto"
FORMATS = (AUTO, *(fmt.value for fmt in LogFormat))
MIB = 1024 * 1024

# Inflated text a file may hold: S3 server access logs are kilobytes to megabytes, ALB and
# CloudFront logs stay under a few hundred megabytes. At the slowest measured parsing rate
# (docs/access-log.md) 1 GiB still parses well inside a 300 s function timeout.
DEFAULT_MAX_INFLATED_MIB = 1024
MAX_INFLATED_MIB = 16 * 1024
# gzip text logs compress 5:1 to 20:1; deflate's own maximum is about 1032:1.
DEFAULT_MAX_INFLATION_RATIO = 100
# Below this much inflated text the ratio is not judged: a small file cannot be a bomb.
RATIO_FREE_BYTES = 16 * MIB
# A file covers the hours it was written in; a month of hours still commits in 8 fenced steps.
DEFAULT_MAX_HOURS_PER_FILE = 744
MAX_HOURS_PER_FILE = 2000  # what a stored commit plan (300 KB) holds with room to spare
# Hours before the upload a line may be from (a year and a month: backfills of old logs), and
# after it (clock skew between the writer and S3).
DEFAULT_MAX_HOURS_BEFORE_UPLOAD = 400 * 24
DEFAULT_MAX_HOURS_AFTER_UPLOAD = 2
MAX_WINDOW_HOURS = 100 * 366 * 24
# Items an hour's totals are spread over (docs/access-log.md: the capacity arithmetic behind it).
# Cardinality of the aggregates `pk`: DEFAULT_SHARDS values an hour; at 10,000 files/s into one
# hour each file costs its item 2 write units (a transaction), 20,000 a second over 32 items:
# ~625 each, under 1,000 (benchmarks/capacity_model.py simulates the peak, docs/capacity.md).
DEFAULT_SHARDS = 32
MAX_SHARDS = 64


@dataclass(frozen=True)
class AccessLogSettings:
    aggregates_table_name: str = ""
    log_format: LogFormat | None = None  # None: detected per file
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_MIB * MIB
    max_inflation_ratio: int = DEFAULT_MAX_INFLATION_RATIO
    max_hours_per_file: int = DEFAULT_MAX_HOURS_PER_FILE
    max_hours_before_upload: int = DEFAULT_MAX_HOURS_BEFORE_UPLOAD
    max_hours_after_upload: int = DEFAULT_MAX_HOURS_AFTER_UPLOAD
    shards: int = DEFAULT_SHARDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AccessLogSettings:
        """Read and validate every access-log variable; the message names the variable."""
        log_format = choice(environ, "ACCESS_LOG_FORMAT", FORMATS, AUTO)
        return cls(
            aggregates_table_name=required(environ, "AGGREGATES_TABLE_NAME"),
            log_format=None if log_format == AUTO else LogFormat(log_format),
            max_inflated_bytes=MIB
            * _int(
                environ,
                "ACCESS_LOG_MAX_INFLATED_MIB",
                1,
                MAX_INFLATED_MIB,
                DEFAULT_MAX_INFLATED_MIB,
            ),
            max_inflation_ratio=_int(
                environ, "ACCESS_LOG_MAX_INFLATION_RATIO", 2, 1100, DEFAULT_MAX_INFLATION_RATIO
            ),
            max_hours_per_file=_int(
                environ,
                "ACCESS_LOG_MAX_HOURS_PER_FILE",
                1,
                MAX_HOURS_PER_FILE,
                DEFAULT_MAX_HOURS_PER_FILE,
            ),
            max_hours_before_upload=_int(
                environ,
                "ACCESS_LOG_MAX_HOURS_BEFORE_UPLOAD",
                0,
                MAX_WINDOW_HOURS,
                DEFAULT_MAX_HOURS_BEFORE_UPLOAD,
            ),
            max_hours_after_upload=_int(
                environ,
                "ACCESS_LOG_MAX_HOURS_AFTER_UPLOAD",
                0,
                MAX_WINDOW_HOURS,
                DEFAULT_MAX_HOURS_AFTER_UPLOAD,
            ),
            shards=_int(environ, "ACCESS_LOG_SHARDS", 1, MAX_SHARDS, DEFAULT_SHARDS),
        )


def _int(environ: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    value = optional_int(environ, name, low, high)
    return default if value is None else value
