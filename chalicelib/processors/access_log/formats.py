"""Access-log line formats: Amazon S3 server access logs and the Combined Log Format.

Lines are parsed as bytes: no decoding cost per line, and a line that is not valid UTF-8 is
simply one more line that does not match. Only what the aggregates need is extracted: the
request time (as its UTC hour), the HTTP status and the bytes sent.

Every pattern captures, in order: the local time to the minute, the UTC offset, the status and
the bytes sent (None for "-"). The patterns never backtrack into a field: a quoted field is
the unrolled `"[^"\\]*(?:\\.[^"\\]*)*"` (the same strings as `"(?:[^"\\]|\\.)*"`, without an
alternation per byte), and every repetition whose field ends at a byte it cannot contain is
possessive. A line costs time in proportion to its length, whatever it holds.
"""

from __future__ import annotations

import datetime
import enum
import re
from dataclasses import dataclass


class LogFormat(enum.Enum):
    S3 = "s3"
    COMBINED = "combined"


@dataclass(frozen=True)
class LogEntry:
    hour: str  # UTC, "YYYY-MM-DDTHH"
    status: int
    bytes_sent: int


# Bytes sent above this are not a response but garbage (S3's largest object is 5 TB): such a
# line is rejected, which keeps every sum of a file's lines far inside DynamoDB's 38 digits.
MAX_BYTES_DIGITS = 13
# A time before the epoch predates HTTP: such a line is rejected like an impossible date.
MIN_YEAR = 1970

# A quoted field may contain escaped quotes: Apache writes \" and nginx writes \x22.
_QUOTED = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_TIME = rb"\[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}):\d{2} ([+-]\d{4})\]"
_STATUS = rb"(\d{3})"
_BYTES = rb"(?:(\d{1,%d})|-)" % MAX_BYTES_DIGITS
# What follows the bytes: a space (more fields, never looked at) or the end of the line. The
# Combined format's optional referer and agent always begin with a space, so whether they are
# there or well formed cannot change whether a line matches: they are not looked at either.
_END = rb"(?: |\r?$)"
_FIELD = rb"\S++ "

# bucket_owner bucket [time] remote_ip requester request_id operation key "request_uri"
# http_status error_code bytes_sent ... (later fields vary with the log's age and are ignored).
_S3_LINE = re.compile(
    _FIELD * 2
    + _TIME
    + b" "
    + _FIELD * 5
    + rb"(?:"
    + _QUOTED
    + rb"|-) "
    + _STATUS
    + b" "
    + _FIELD
    + _BYTES
    + _END
)
# host ident authuser [time] "request" status bytes ["referer" "user-agent" [anything]];
# without the last two it is the Common Log Format, which is accepted too.
_COMBINED_LINE = re.compile(
    _FIELD * 3 + _TIME + b" " + _QUOTED + b" " + _STATUS + b" " + _BYTES + _END
)
PATTERNS = {LogFormat.S3: _S3_LINE, LogFormat.COMBINED: _COMBINED_LINE}
# The shortest line each pattern can match (a test derives them from the patterns).
MIN_LINE_BYTES = {LogFormat.S3: 52, LogFormat.COMBINED: 43}
_MONTHS = {
    name.encode(): number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_HOUR = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class UtcHour:
    label: str  # "YYYY-MM-DDTHH"
    epoch_hour: int  # hours since 1970-01-01T00 UTC


def utc_hour(local_minute: bytes, offset: bytes) -> UtcHour | None:
    """The UTC hour of "10/Oct/2000:13:55" at "-0700"; None if no such time can be."""
    month = _MONTHS.get(local_minute[3:6])
    if month is None:
        return None
    sign = -1 if offset[:1] == b"-" else 1
    try:
        local = datetime.datetime(
            int(local_minute[7:11]),
            month,
            int(local_minute[0:2]),
            int(local_minute[12:14]),
            int(local_minute[15:17]),
            tzinfo=datetime.UTC,
        )
        utc = local - sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    except (ValueError, OverflowError):  # 31/Feb, hour 25, year 0000, beyond year 9999
        return None
    if utc.year < MIN_YEAR:
        return None
    return UtcHour(
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}", (utc - _EPOCH) // _HOUR
    )


def hour_cache_key(local_minute: bytes, offset: bytes) -> tuple[bytes, bytes]:
    """What the UTC hour depends on: the minute matters only where the offset has minutes."""
    return (local_minute if offset[3:5] != b"00" else local_minute[:14], offset)


class LineParser:
    """One line at a time (detection, tests): the same patterns and rules as `Tally`."""

    def __init__(self, log_format: LogFormat) -> None:
        self.log_format = log_format
        self._match = PATTERNS[log_format].match

    def parse(self, line: bytes) -> LogEntry | None:
        """The entry a line (without its "\\n") holds, or None if it is not one of this format."""
        match = self._match(line) or self._match(line.rstrip(b"\r"))
        if match is None:
            return None
        local_minute, offset, status, sent = match.groups()
        hour = utc_hour(local_minute, offset)
        if hour is None:
            return None
        return LogEntry(hour.label, int(status), int(sent) if sent else 0)


def detect_format(lines: list[bytes]) -> LogFormat | None:
    """The format most of `lines` match; None if none matches any."""
    best: LogFormat | None = None
    best_count = 0
    for log_format in LogFormat:
        parser = LineParser(log_format)
        count = sum(1 for line in lines if parser.parse(line) is not None)
        if count > best_count:
            best, best_count = log_format, count
    return best
