"""Fuzzed log lines: real lines of both formats, mutated the ways hostile or broken logs are.

Escaped quotes (`\\"`, nginx's `\\x22`), stray quotes and backslashes, CR, NUL, 0xff, tabs,
numbers far too large, impossible and out-of-range dates, truncation and random bytes.
"""

from __future__ import annotations

import random
import re

from tests.access_log_data import combined_line, requests, s3_line

_STAMP = re.compile(rb"\[(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_S3_BYTES = re.compile(rb'(" \d{3} [^ ]+ )(\d+|-)( )')
_COMBINED_BYTES = re.compile(rb'(" \d{3} )(\d+|-)')
_NOISE = (b"\\", b'"', b'\\"', b"\\x22", b"\r", b"\x00", b"\xff", b"\t", b" ", b"\\\\", b"-")


def fuzzed_lines(count: int, seed: int) -> list[bytes]:
    """`count` lines (no "\\n" in any), about a third of them unchanged."""
    rng = random.Random(seed)
    items = requests(max(count // 4, 1), hours=30, seed=seed)
    lines: list[bytes] = []
    for index in range(count):
        write = combined_line if rng.random() < 0.5 else s3_line
        line = write(items[index % len(items)], index)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            line = rng.choice(_MUTATIONS)(line, rng)
        lines.append(line.replace(b"\n", b"\r"))
    return lines


def _insert(line: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(line) + 1)
    return line[:at] + rng.choice(_NOISE) + line[at:]


def _delete(line: bytes, rng: random.Random) -> bytes:
    if not line:
        return line
    at = rng.randrange(len(line))
    return line[:at] + line[at + rng.randint(1, 3) :]


def _truncate(line: bytes, rng: random.Random) -> bytes:
    return line[: rng.randrange(len(line) + 1)]


def _trailing(line: bytes, rng: random.Random) -> bytes:
    return line + rng.choice((b"\r", b"\r\r", b" ", b"\x00", b"\r \r"))


def _huge_bytes(line: bytes, rng: random.Random) -> bytes:
    digits = rng.choice((13, 14, 20, 39, 4300))
    number = str(rng.randint(1, 9)).encode() + b"9" * (digits - 1)
    changed = _S3_BYTES.sub(lambda m: m[1] + number + m[3], line, count=1)
    if changed == line:
        changed = _COMBINED_BYTES.sub(lambda m: m[1] + number, line, count=1)
    return changed


def _date(line: bytes, rng: random.Random) -> bytes:
    year = rng.choice((b"0000", b"0001", b"0999", b"1969", b"1970", b"9999", b"2026"))
    day = rng.choice((b"01", b"29", b"31", b"00", b"32"))
    month = rng.choice((b"Feb", b"Dec", b"Jan", b"Foo", b"feb"))
    hour = rng.choice((b"00", b"23", b"24", b"99"))
    offset = rng.choice((b"+0000", b"-0000", b"+1400", b"-1200", b"+0530", b"+9999", b"-9959"))

    def replace(m: re.Match[bytes]) -> bytes:
        return b"[%s/%s/%s:%s:%s:%s %s]" % (day, month, year, hour, m[5], m[6], offset)

    return _STAMP.sub(replace, line, count=1)


def _random_bytes(line: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(line) + 1)
    return line[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + line[at:]


def _blank(line: bytes, rng: random.Random) -> bytes:
    return rng.choice((b"", b"\r", b"\r\r", b" "))


_MUTATIONS = (
    _insert,
    _insert,
    _insert,
    _delete,
    _truncate,
    _trailing,
    _huge_bytes,
    _huge_bytes,
    _date,
    _date,
    _random_bytes,
    _blank,
)
