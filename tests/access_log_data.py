"""Generated access logs and their ground truth, computed from the requests, not by parsing.

Shared by the access-log tests and benchmarks: `requests()` draws requests, `*_line()` writes
each one in a log format (with the quirks real logs have), `truth()` totals the requests per
UTC hour in the report's JSON shape.
"""

from __future__ import annotations

import datetime
import gzip
import itertools
import random
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# samples/access-logs was generated from requests starting here.
SAMPLES_START = datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.UTC)
# Generated requests start 20 days before today (UTC midnight): inside the processor's default
# plausibility window around an upload made now, whenever the tests run.
START = datetime.datetime.now(datetime.UTC).replace(
    hour=0, minute=0, second=0, microsecond=0
) - datetime.timedelta(days=20)
STATUSES = (200, 200, 200, 200, 204, 206, 301, 304, 400, 403, 404, 404, 500, 502, 503)
OFFSETS_MINUTES = (0, 0, -420, 120, 330, -150)  # -0700, +0200, +0530, -0230
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    'curl/8.5.0 \\"quoted\\" [bracketed]',
    "Mozilla/4.08 [en] (Win98; I ;Nav)",
    "-",
    "bot\\x22with-nginx-escaped-quote\\x22",
)
HOSTS = ("192.0.2.7", "2001:db8::1", "::1", "198.51.100.23", "fe80::1ff:fe23:4567:890a")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GARBAGE = (
    b"this is not a log line",
    b'192.0.2.7 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 20',  # truncated
    b"\x8b\x00\xff\xfe binary \x01\x02",
)


@dataclass(frozen=True)
class Request:
    at: datetime.datetime  # UTC
    status: int
    bytes_sent: int | None  # None: written as "-"
    offset_minutes: int = 0  # the time zone the line is written in


def requests(count: int, hours: int, seed: int, start: datetime.datetime = START) -> list[Request]:
    rng = random.Random(seed)
    span = hours * 3600
    return [
        Request(
            at=start + datetime.timedelta(seconds=rng.randrange(span)),
            status=rng.choice(STATUSES),
            bytes_sent=None if rng.random() < 0.1 else rng.randrange(0, 50_000),
            offset_minutes=rng.choice(OFFSETS_MINUTES),
        )
        for _ in range(count)
    ]


def _stamp(request: Request, offset_minutes: int) -> str:
    local = request.at + datetime.timedelta(minutes=offset_minutes)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {sign}{hours:02d}{minutes:02d}"
    )


def combined_line(request: Request, index: int = 0) -> bytes:
    sent = "-" if request.bytes_sent is None else str(request.bytes_sent)
    host = HOSTS[index % len(HOSTS)]
    agent = AGENTS[index % len(AGENTS)]
    user = "frank" if index % 7 == 0 else "-"
    return (
        f'{host} - {user} [{_stamp(request, request.offset_minutes)}] "GET /path/{index}?q=a%20b'
        f' HTTP/1.1" {request.status} {sent} "https://example.com/a page" "{agent}"'
    ).encode()


def s3_line(request: Request, index: int = 0) -> bytes:
    sent = "-" if request.bytes_sent is None else str(request.bytes_sent)
    host = HOSTS[index % len(HOSTS)]
    agent = AGENTS[index % len(AGENTS)]
    error = "-" if request.status < 400 else "NoSuchKey"
    return (
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be logs-bucket"
        f" [{_stamp(request, 0)}] {host} arn:aws:iam::123456789012:user/alice"
        f" 3E57427F3EXAMPLE{index} REST.GET.OBJECT photos/2026/a%20b{index}.jpg"
        f' "GET /logs-bucket/photos/2026/a%20b{index}.jpg?x=1 HTTP/1.1" {request.status} {error}'
        f' {sent} 4096 7 - "-" "{agent}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6Uk='
        " SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader logs-bucket.s3.us-west-1.amazonaws.com"
        " TLSv1.2 - -"
    ).encode()


def log_bytes(
    items: Sequence[Request], fmt: str, garbage_every: int = 0, start_index: int = 0
) -> bytes:
    """The log file for `items` in format "s3" or "combined", with a rejected line now and then."""
    write = s3_line if fmt == "s3" else combined_line
    lines: list[bytes] = []
    for index, request in enumerate(items, start=start_index):
        if garbage_every and index % garbage_every == garbage_every - 1:
            lines.append(GARBAGE[index % len(GARBAGE)])
        lines.append(write(request, index))
    return b"\n".join(lines) + b"\n"


def truth(items: Iterable[Request]) -> dict[str, dict[str, Any]]:
    """Totals per UTC hour in the shape of `s3once report --json`."""
    hours: dict[str, dict[str, Any]] = {}
    for request in items:
        hour = request.at.strftime("%Y-%m-%dT%H")
        totals = hours.setdefault(
            hour, {"requests": 0, "bytes": 0, "4xx": 0, "5xx": 0, "status": {}}
        )
        totals["requests"] += 1
        totals["bytes"] += request.bytes_sent or 0
        totals["4xx"] += 1 if 400 <= request.status < 500 else 0
        totals["5xx"] += 1 if 500 <= request.status < 600 else 0
        code = str(request.status)
        totals["status"][code] = totals["status"].get(code, 0) + 1
    return {hour: hours[hour] for hour in sorted(hours)}


def scaled(totals: dict[str, dict[str, Any]], factor: int) -> dict[str, dict[str, Any]]:
    return {
        hour: {
            "requests": t["requests"] * factor,
            "bytes": t["bytes"] * factor,
            "4xx": t["4xx"] * factor,
            "5xx": t["5xx"] * factor,
            "status": {code: n * factor for code, n in t["status"].items()},
        }
        for hour, t in totals.items()
    }


def write_repeated_gzip(path: Path, block: bytes, repeats: int) -> int:
    """Write `block` `repeats` times into a gzip file; returns the uncompressed size."""
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(repeats):
            out.write(block)
    return len(block) * repeats


class GzipBomb:
    """A gzip stream of `units` copies of `unit`, made on the fly as it is read.

    After a full flush deflate keeps no history, so every unit compresses to the same bytes:
    one is compressed, then repeated. 10,000 units of 1 MiB of newlines are ~10 GB of text in
    ~10 MB of gzip, produced in constant memory. The trailer is worked out only if it is
    reached.
    """

    def __init__(self, unit: bytes, units: int) -> None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        self._head = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
        self._body = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
        self._end = compressor.flush(zlib.Z_FINISH)[:-8]  # without CRC and size
        self.size = len(self._head) + (units - 1) * len(self._body) + len(self._end) + 8
        self.inflated_size = len(unit) * units
        self._unit, self._units = unit, units
        self._pieces = itertools.chain(
            [self._head], itertools.repeat(self._body, units - 1), self._trailer()
        )
        self._pending = b""
        self.consumed = 0

    def _trailer(self) -> Iterator[bytes]:
        crc = 0
        for _ in range(self._units):
            crc = zlib.crc32(self._unit, crc)
        yield self._end + struct.pack("<II", crc, self.inflated_size & 0xFFFFFFFF)

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._pending += piece
        out = self._pending if size < 0 else self._pending[:size]
        self._pending = self._pending[len(out) :]
        self.consumed += len(out)
        return out

    def close(self) -> None:
        self._pending = b""

    def __enter__(self) -> GzipBomb:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
