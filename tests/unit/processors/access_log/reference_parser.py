"""The line parser as it was before the unrolled patterns: kept as the reference that the
differential test compares the production parser with, line by line, on fuzzed input.

Do not optimise this file: its worth is that it is the old, obviously-correct code.
"""

from __future__ import annotations

import datetime
import re

from chalicelib.processors.access_log.formats import LogEntry, LogFormat

# A quoted field may contain escaped quotes: Apache writes \" and nginx writes \x22.
_QUOTED = rb'"(?:[^"\\]|\\.)*"'
_TIME = rb"\[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]"
_STATUS = rb"(\d{3})"
_BYTES = rb"(\d+|-)"

# bucket_owner bucket [time] remote_ip requester request_id operation key "request_uri"
# http_status error_code bytes_sent ... (later fields vary with the log's age and are ignored).
_S3_LINE = re.compile(
    rb"\S+ \S+ " + _TIME + rb" \S+ \S+ \S+ \S+ \S+ (?:" + _QUOTED + rb"|-) "
    rb"(\d{3}|-) \S+ " + _BYTES + rb"(?: |\r?$)"
)
# host ident authuser [time] "request" status bytes ["referer" "user-agent" [anything]];
# without the last two it is the Common Log Format, which is accepted too.
_COMBINED_LINE = re.compile(
    rb"\S+ \S+ \S+ "
    + _TIME
    + rb" "
    + _QUOTED
    + rb" "
    + _STATUS
    + rb" "
    + _BYTES
    + rb"(?: "
    + _QUOTED
    + rb" "
    + _QUOTED
    + rb")?(?: |\r?$)"
)
_PATTERNS = {LogFormat.S3: _S3_LINE, LogFormat.COMBINED: _COMBINED_LINE}
_MONTHS = {
    name.encode(): number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
# Distinct (local hour, offset) pairs seen; a file spans few hours, so this stays small.
_HOUR_CACHE_LIMIT = 4096


class ReferenceParser:
    """Parses the lines of one format; remembers the UTC hour of each local hour it has seen."""

    def __init__(self, log_format: LogFormat) -> None:
        self.log_format = log_format
        self._match = _PATTERNS[log_format].match
        self._hours: dict[bytes, str | None] = {}

    def parse(self, line: bytes) -> LogEntry | None:
        """The entry a line holds, or None if the line is not one of this format."""
        match = self._match(line)
        if match is None:
            return None
        stamp, status, sent = match.group(1, 2, 3)
        if status == b"-":
            return None
        hour = self._utc_hour(stamp)
        if hour is None:
            return None
        return LogEntry(hour, int(status), 0 if sent == b"-" else int(sent))

    def _utc_hour(self, stamp: bytes) -> str | None:
        # "10/Oct/2000:13:55:36 -0700": the UTC hour depends on the date, the hour and the
        # offset, and on the minute only where the offset has minutes (+0530).
        key = stamp[:14] + stamp[20:] if stamp[24:26] == b"00" else stamp[:17] + stamp[20:]
        try:
            return self._hours[key]
        except KeyError:
            pass
        hour = _to_utc_hour(stamp)
        if len(self._hours) >= _HOUR_CACHE_LIMIT:
            self._hours.clear()
        self._hours[key] = hour
        return hour


def _to_utc_hour(stamp: bytes) -> str | None:
    month = _MONTHS.get(stamp[3:6])
    if month is None:
        return None
    sign = -1 if stamp[21:22] == b"-" else 1
    offset = datetime.timedelta(hours=int(stamp[22:24]), minutes=int(stamp[24:26]))
    try:
        local = datetime.datetime(
            int(stamp[7:11]),
            month,
            int(stamp[0:2]),
            int(stamp[12:14]),
            int(stamp[15:17]),
            tzinfo=datetime.UTC,
        )
    except ValueError:  # 31/Feb, hour 25, ...
        return None
    return (local - sign * offset).strftime("%Y-%m-%dT%H")
