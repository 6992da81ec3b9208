"""What the hostile-log tests share: an upload time, streams that count what was read from
them, and a run of the processor on a given body."""

from __future__ import annotations

import datetime
import io
import logging
from typing import BinaryIO

from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ObjectMetadata, ProcessingResult, UnguardedWork, WorkContext
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.settings import AccessLogSettings
from tests.access_log_data import GzipBomb, Request, combined_line

UPLOAD = datetime.datetime(2026, 3, 10, 12, 30, tzinfo=datetime.UTC)
UPLOAD_MS = int(UPLOAD.timestamp() * 1000)
OBJ = ObjectRef("logs", "access.log", etag="e1", event_time_ms=UPLOAD_MS)
GOOD = combined_line(Request(UPLOAD - datetime.timedelta(hours=1), 200, 5))


class CountingStream(io.BytesIO):
    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


class StreamStore:
    """Hands out one given stream (a generated bomb, a counting stream)."""

    def __init__(self, stream: BinaryIO | GzipBomb) -> None:
        self.stream = stream

    def head(self, obj: ObjectRef) -> ObjectMetadata:
        raise NotImplementedError

    def open(self, obj: ObjectRef) -> BinaryIO:
        return self.stream  # type: ignore[return-value]


class FixedClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def quiet() -> logging.Logger:
    logger = logging.getLogger("test-hostile-logs")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def run(
    body: bytes | GzipBomb,
    settings: AccessLogSettings | None = None,
    obj: ObjectRef = OBJ,
    work: WorkContext | None = None,
    clock: FixedClock | None = None,
) -> ProcessingResult:
    stream = CountingStream(body) if isinstance(body, bytes) else body
    processor = AccessLogProcessor(
        StreamStore(stream), settings or AccessLogSettings(shards=1), clock, quiet()
    )
    return processor.process(obj, work or UnguardedWork())


def line_at(stamp: str, sent: str = "5") -> bytes:
    return f'192.0.2.7 - - [{stamp}] "GET / HTTP/1.1" 200 {sent} "-" "-"'.encode()


def at(event_time_ms: int | None) -> ObjectRef:
    return ObjectRef("logs", "access.log", etag="e1", event_time_ms=event_time_ms)
