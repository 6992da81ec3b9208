"""Lines of a log object, streamed: plain or gzip (told by its first bytes), in bounded memory.

The text is read in chunks of CHUNK_BYTES and cut into lines in C (`bytes.split`), so a line
costs no Python call of its own here. Memory is bounded by the read buffer, the decompressor's
window, one chunk and the longest line kept (`MAX_LINE_BYTES`); a longer line is skipped and
reported as too long. The bytes read from the object and the bytes of text they inflated to are
counted, so that a budget can refuse a gzip bomb while it streams.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple, TypeAlias

from chalicelib.processors.access_log.errors import NotTextError

GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER_BYTES = 128 * 1024  # also what a budget may count as read before it inflates
CHUNK_BYTES = 256 * 1024
MAX_LINE_BYTES = 64 * 1024
# How much of the (decompressed) start of an object decides whether it is text at all.
SNIFF_BYTES = 8192
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1b")
_MAX_CONTROL_SHARE = 0.05
# A corrupt or truncated gzip stream raises one of these (BadGzipFile is an OSError: a network
# error of the underlying stream is not caught, it stays a transient failure).
_CORRUPT = (gzip.BadGzipFile, EOFError, zlib.error)


class _CountingReader(io.RawIOBase):
    """Adapts any `read(n)` stream (botocore's StreamingBody) to what BufferedReader wraps,
    counting the bytes read from it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)


TextStream: TypeAlias = "io.BufferedReader[_CountingReader] | gzip.GzipFile"


class Batch(NamedTuple):
    """The complete lines of one chunk: none blank (empty or CRs only), none longer than
    MAX_LINE_BYTES."""

    lines: list[bytes]
    too_long: list[bytes]  # the first MAX_LINE_BYTES of each longer line


class LogText:
    """The decompressed text of one object; NotTextError if it does not start like text."""

    def __init__(self, stream: BinaryIO) -> None:
        self._raw = _CountingReader(stream)
        buffered = io.BufferedReader(self._raw, READ_BUFFER_BYTES)
        self._text: TextStream = buffered
        if buffered.peek(2)[:2] == GZIP_MAGIC:
            self._text = gzip.GzipFile(fileobj=buffered, mode="rb")
        try:
            start = self._text.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        except (OSError, EOFError, zlib.error) as exc:
            raise NotTextError(f"not a readable gzip stream: {exc}") from exc
        if not looks_like_text(start):
            raise NotTextError("the object is binary, not a text log")
        self.inflated = 0

    @property
    def consumed(self) -> int:
        """Bytes of the object read so far (some of them may still wait in a buffer)."""
        return self._raw.consumed

    def chunks(self) -> Iterator[bytes]:
        """The text in pieces of at most CHUNK_BYTES, counted in `inflated` as they come."""
        read = self._text.read1
        try:
            while chunk := read(CHUNK_BYTES):
                self.inflated += len(chunk)
                yield chunk
        except _CORRUPT as exc:
            raise NotTextError(f"the gzip stream is corrupt or truncated: {exc}") from exc

    def batches(self) -> Iterator[Batch]:
        """The lines, a chunk at a time, without their "\\n" (a "\\r" before it is kept)."""
        carry = b""
        skipping = False  # inside a too-long line, until its end
        for chunk in self.chunks():
            too_long: list[bytes] = []
            lines = chunk.split(b"\n")
            tail = lines.pop()
            if lines:
                first = lines[0]
                if skipping:
                    lines[0], skipping = b"", False
                elif carry:
                    lines[0] = carry + first
            elif skipping:
                continue
            else:
                tail = carry + tail
            carry = tail
            if len(carry) > MAX_LINE_BYTES:
                too_long.append(carry[:MAX_LINE_BYTES])
                carry, skipping = b"", True
            if not all(lines):
                lines = list(filter(None, lines))
            if b"\n\r" in chunk or (lines and lines[0][:1] == b"\r"):
                lines = [line for line in lines if line.strip(b"\r")]  # CR-only: blank
            if lines and max(map(len, lines)) > MAX_LINE_BYTES:
                too_long += [line[:MAX_LINE_BYTES] for line in lines if len(line) > MAX_LINE_BYTES]
                lines = [line for line in lines if len(line) <= MAX_LINE_BYTES]
            yield Batch(lines, too_long)
        if carry.strip(b"\r"):
            yield Batch([carry], [])


def looks_like_text(start: bytes) -> bool:
    """Few control bytes: a stray binary line is tolerated (and rejected later), a binary file
    (where about one byte in eight is a control byte) is not."""
    controls = sum(1 for byte in start if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls <= _MAX_CONTROL_SHARE * max(len(start), 1)
