"""The `access-log` processor: totals per UTC hour of one log object, committed exactly once.

The object is streamed a chunk at a time; the totals leave as counter increments that the lock
repository commits together with the completion of the lock record. A line that cannot be
counted is rejected (counted and sampled), never an exception; a file that breaks a budget
(inflated size or ratio, hours outside the plausibility window, too many hours) is refused
permanently as soon as the budget is broken, before anything more is read.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

from chalicelib.core.logs import get_logger, log
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import Clock, ObjectStore, ProcessingResult, SystemClock, WorkContext
from chalicelib.processors.access_log.aggregate import Tally, increments
from chalicelib.processors.access_log.formats import LogFormat, detect_format
from chalicelib.processors.access_log.limits import HourWindow, InflationBudget
from chalicelib.processors.access_log.reader import Batch, LogText
from chalicelib.processors.access_log.settings import AccessLogSettings

# Lines looked at to choose a format when ACCESS_LOG_FORMAT=auto.
DETECTION_LINES = 50
DETECTION_BATCHES = 4  # at most this much text is held to find them (a chunk each)
MAX_LOGGED_SAMPLES = 5
SAMPLE_BYTES = 200
# The lease is checked (`work.check()`) at the end of a chunk once this many lines have passed;
# a chunk counts as CHUNK_WEIGHT_LINES more, so that a flood of blank lines is checked too.
CHECK_EVERY_LINES = 10_000
CHUNK_WEIGHT_LINES = 500


class AccessLogProcessor:
    name = "access-log"

    def __init__(
        self,
        objects: ObjectStore,
        settings: AccessLogSettings | None = None,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._objects = objects
        self._settings = settings or AccessLogSettings()
        self._clock = clock or SystemClock()
        self._logger = logger or get_logger()

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        upload_ms = obj.event_time_ms if obj.event_time_ms is not None else self._clock.now_ms()
        window = HourWindow(self._settings, upload_ms)
        budget = InflationBudget(self._settings)
        samples = _Samples(self._logger, obj, MAX_LOGGED_SAMPLES)
        with self._objects.open(obj) as body:
            text = LogText(body)
            batches = _budgeted(text, budget)
            head, batches = _head(batches, DETECTION_LINES)
            log_format = (
                self._settings.log_format
                or detect_format([line for batch in head for line in batch.lines][:DETECTION_LINES])
                or LogFormat.COMBINED
            )
            samples.log_format = log_format
            tally = Tally(log_format, window.admit)
            too_long = unchecked = 0
            for batch in _chain(head, batches):
                misses = tally.feed(batch.lines)
                samples.add("no match", misses)
                samples.add("too long", batch.too_long)
                too_long += len(batch.too_long)
                unchecked += len(batch.lines) + CHUNK_WEIGHT_LINES
                if unchecked >= CHECK_EVERY_LINES:
                    work.check()
                    unchecked = 0
            samples.add("impossible time", tally.impossible_time)
        lines = tally.lines + too_long
        accepted = tally.accepted
        hours = tally.totals()
        shard = shard_of(obj, self._settings.shards)
        return ProcessingResult(
            summary={
                "format": log_format.value,
                "lines": lines,
                "accepted": accepted,
                "rejected": lines - accepted,
                "hours": len(hours),
                "inflated_bytes": text.inflated,
                **({} if shard is None else {"shard": shard}),
            },
            increments=increments(hours, shard),
        )


def shard_of(obj: ObjectRef, shards: int) -> int | None:
    """The shard a file adds to, the same on every delivery of the same upload (None: 1 shard)."""
    if shards <= 1:
        return None
    identity = "\0".join((obj.bucket, obj.key, obj.version_id or "", obj.etag or ""))
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % shards


class _Samples:
    """Logs the first few rejected lines of a file, as escaped text (never raw bytes)."""

    def __init__(self, logger: logging.Logger, obj: ObjectRef, limit: int) -> None:
        self._logger = logger
        self._obj = obj
        self._left = limit
        self.log_format: LogFormat | None = None

    def add(self, reason: str, lines: list[bytes]) -> None:
        for line in lines[: max(self._left, 0)]:
            self._left -= 1
            log(
                self._logger,
                logging.WARNING,
                "access log line rejected",
                bucket=self._obj.bucket,
                key=self._obj.key,
                format=self.log_format.value if self.log_format else None,
                reason=reason,
                sample=escaped(line[:SAMPLE_BYTES]),
            )


def escaped(data: bytes) -> str:
    """`data` as printable ASCII: backslash escapes for quotes, controls and non-ASCII bytes."""
    return repr(bytes(data))[2:-1]


def _budgeted(text: LogText, budget: InflationBudget) -> Iterator[Batch]:
    for batch in text.batches():
        budget.check(text.inflated, text.consumed)
        yield batch


def _head(batches: Iterator[Batch], lines: int) -> tuple[list[Batch], Iterator[Batch]]:
    """The first batches, until they hold `lines` lines or DETECTION_BATCHES batches."""
    head: list[Batch] = []
    seen = 0
    for batch in batches:
        head.append(batch)
        seen += len(batch.lines)
        if seen >= lines or len(head) >= DETECTION_BATCHES:
            break
    return head, batches


def _chain(head: list[Batch], rest: Iterator[Batch]) -> Iterator[Batch]:
    yield from head
    yield from rest
