"""Lines of a log object, streamed: plain or gzip (told by its first bytes), in bounded memory.

Memory is bounded by the read buffer, the decompressor's window and the longest line kept
(`MAX_LINE_BYTES`); longer lines are skipped in pieces and reported as too long.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO, TypeAlias

from chalicelib.errors import NotTextError

GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER_BYTES = 1 << 20
MAX_LINE_BYTES = 64 * 1024
# How much of the (decompressed) start of an object decides whether it is text at all.
SNIFF_BYTES = 8192
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1b")
_MAX_CONTROL_SHARE = 0.05


class _RawReader(io.RawIOBase):
    """Adapts any `read(n)` stream (botocore's StreamingBody) to what BufferedReader wraps."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


TextStream: TypeAlias = "io.BufferedReader[_RawReader] | gzip.GzipFile"


class TooLongLine(bytes):
    """The first MAX_LINE_BYTES of a line that was longer (the rest was skipped)."""


def open_text(stream: BinaryIO) -> TextStream:
    """The decompressed bytes of `stream`; NotTextError if they do not start like text."""
    buffered = io.BufferedReader(_RawReader(stream), READ_BUFFER_BYTES)
    text: TextStream = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        text = gzip.GzipFile(fileobj=buffered, mode="rb")
    try:
        start = text.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    except (OSError, EOFError, zlib.error) as exc:
        raise NotTextError(f"not a readable gzip stream: {exc}") from exc
    if not looks_like_text(start):
        raise NotTextError("the object is binary, not a text log")
    return text


def looks_like_text(start: bytes) -> bool:
    """Few control bytes: a stray binary line is tolerated (and rejected later), a binary file
    (where about one byte in eight is a control byte) is not."""
    controls = sum(1 for byte in start if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls <= _MAX_CONTROL_SHARE * max(len(start), 1)


def iter_lines(text: TextStream) -> Iterator[bytes]:
    """Each line without its line ending; a line over MAX_LINE_BYTES comes as a TooLongLine.

    A gzip stream that turns out corrupt or truncated after a good start is not text that can
    be trusted either: NotTextError (retrying the same pinned bytes cannot help).
    """
    try:
        while True:
            line = text.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while True:  # skip the rest of the line without holding it
                    rest = text.readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield TooLongLine(line[:MAX_LINE_BYTES])
                continue
            yield line.rstrip(b"\r\n")
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise NotTextError(f"the gzip stream is corrupt or truncated: {exc}") from exc
