"""Both log formats, line by line: what is read from a line, and which lines are rejected."""

from __future__ import annotations

import pytest

from chalicelib.processors.access_log.formats import LineParser, LogEntry, LogFormat, detect_format

S3_OWNER = b"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
S3_LINE = (
    S3_OWNER
    + b" awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 "
    + S3_OWNER
    + b' 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1"'
    b' 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVd='
    b" SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com"
    b" TLSV1.2 - -"
)
COMBINED_LINE = (
    b'127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
    b' "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
)

COMBINED_CASES = [
    ("classic combined line", COMBINED_LINE, LogEntry("2000-10-10T20", 200, 2326)),
    (
        "common log format without referer and agent",
        b'127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.0" 304 -',
        LogEntry("2000-10-10T13", 304, 0),
    ),
    (
        "IPv6 client address",
        b'2001:db8::ff00:42:8329 - - [01/Mar/2026:00:10:00 +0000] "GET / HTTP/2.0" 404 12 "-" "-"',
        LogEntry("2026-03-01T00", 404, 12),
    ),
    (
        "dash for missing bytes",
        b'::1 - - [01/Mar/2026:23:59:59 +0000] "HEAD / HTTP/1.1" 500 - "-" "curl/8.5.0"',
        LogEntry("2026-03-01T23", 500, 0),
    ),
    (
        "quoted fields with spaces and escaped quotes (Apache style)",
        b'10.0.0.1 - - [01/Mar/2026:10:00:00 +0000] "GET /a b?q=\\"x y\\" HTTP/1.1" 200 5'
        b' "https://example.com/a page" "odd \\"agent\\" [with] (parens) {and} braces"',
        LogEntry("2026-03-01T10", 200, 5),
    ),
    (
        "nginx-escaped quote and non-ASCII bytes in the user agent",
        b'10.0.0.1 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 201 7 "-"'
        b' "bot\\x22x\\x22 \xc3\xa9\xff"',
        LogEntry("2026-03-01T10", 201, 7),
    ),
    (
        "offset with minutes moves the hour by the minute",
        b'10.0.0.1 - - [01/Mar/2026:05:20:00 +0530] "GET / HTTP/1.1" 200 1 "-" "-"',
        LogEntry("2026-02-28T23", 200, 1),
    ),
    (
        "negative offset crosses the day and the month",
        b'10.0.0.1 - - [28/Feb/2026:22:00:00 -0230] "GET / HTTP/1.1" 200 1 "-" "-"',
        LogEntry("2026-03-01T00", 200, 1),
    ),
    (
        "CRLF line ending",
        b'10.0.0.1 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"\r',
        LogEntry("2026-03-01T10", 200, 1),
    ),
    ("truncated line", COMBINED_LINE[:60], None),
    ("truncated inside the status", b'1.2.3.4 - - [01/Mar/2026:10:00:00 +0000] "GET /" 20', None),
    ("binary line", b"\x1f\x8b\x08\x00\x00\x00\x00\xff\xfe\x00binary", None),
    ("empty line", b"", None),
    ("non-numeric bytes", b'1.2.3.4 - - [01/Mar/2026:10:00:00 +0000] "GET /" 200 12ab', None),
    ("impossible date", b'1.2.3.4 - - [31/Feb/2026:10:00:00 +0000] "GET /" 200 1', None),
    ("unknown month", b'1.2.3.4 - - [01/Foo/2026:10:00:00 +0000] "GET /" 200 1', None),
    ("an S3 line is not a combined line", S3_LINE, None),
]

S3_CASES = [
    ("documented example line", S3_LINE, LogEntry("2019-02-06T00", 200, 113)),
    (
        "error with bytes sent and an IPv6 remote address",
        S3_OWNER + b" logs [01/Mar/2026:07:01:02 +0000] 2001:db8::1 - REQID REST.GET.OBJECT"
        b' photos/a%20b.jpg "GET /logs/photos/a%20b.jpg HTTP/1.1" 404 NoSuchKey 243 - 12 -'
        b' "-" "aws-cli/2.15 Python/3.11 \\"quoted\\""',
        LogEntry("2026-03-01T07", 404, 243),
    ),
    (
        "dash for bytes sent",
        S3_OWNER + b" logs [01/Mar/2026:07:01:02 +0000] 192.0.2.3 - REQID REST.HEAD.OBJECT k"
        b' "HEAD /logs/k HTTP/1.1" 304 - - 10 5 3 "-" "agent with spaces"',
        LogEntry("2026-03-01T07", 304, 0),
    ),
    (
        "older line ending right after the bytes",
        S3_OWNER + b" logs [01/Mar/2026:07:01:02 +0000] 192.0.2.3 - REQID REST.PUT.OBJECT k"
        b' "PUT /logs/k HTTP/1.1" 200 - 0',
        LogEntry("2026-03-01T07", 200, 0),
    ),
    ("truncated line", S3_LINE[:120], None),
    ("binary line", b"\x00\x01\x02\xff" * 10, None),
    ("a combined line is not an S3 line", COMBINED_LINE, None),
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [case[1:] for case in COMBINED_CASES],
    ids=[case[0] for case in COMBINED_CASES],
)
def test_combined_lines_parse_to_their_utc_hour_status_and_bytes(
    line: bytes, expected: LogEntry | None
) -> None:
    assert LineParser(LogFormat.COMBINED).parse(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"), [case[1:] for case in S3_CASES], ids=[case[0] for case in S3_CASES]
)
def test_s3_server_access_lines_parse_to_their_utc_hour_status_and_bytes(
    line: bytes, expected: LogEntry | None
) -> None:
    assert LineParser(LogFormat.S3).parse(line) == expected


def test_the_same_local_hour_in_two_offsets_lands_in_two_utc_hours() -> None:
    parser = LineParser(LogFormat.COMBINED)
    east = parser.parse(b'h - - [01/Mar/2026:10:00:00 +0200] "GET /" 200 1')
    west = parser.parse(b'h - - [01/Mar/2026:10:00:00 -0200] "GET /" 200 1')

    assert (east and east.hour, west and west.hour) == ("2026-03-01T08", "2026-03-01T12")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([S3_LINE, b"garbage"], LogFormat.S3),
        ([b"garbage", COMBINED_LINE, COMBINED_LINE, S3_LINE], LogFormat.COMBINED),
        ([b"garbage", b"\x00\x01"], None),
    ],
    ids=["s3", "combined by majority", "nothing matches"],
)
def test_detection_picks_the_format_most_lines_match(
    lines: list[bytes], expected: LogFormat | None
) -> None:
    assert detect_format(lines) is expected
