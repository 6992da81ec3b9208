"""The `access-log` processor: totals per UTC hour of one log object, committed exactly once.

The object is streamed line by line; the totals leave as counter increments that the lock
repository commits together with the completion of the lock record.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

from chalicelib.access_log.aggregate import Aggregate
from chalicelib.access_log.formats import LineParser, LogFormat, detect_format
from chalicelib.access_log.reader import TooLongLine, iter_lines, open_text
from chalicelib.logs import get_logger, log
from chalicelib.model import ObjectRef
from chalicelib.ports import ObjectStore, ProcessingResult, WorkContext

AUTO = "auto"
# Lines looked at to choose a format when ACCESS_LOG_FORMAT=auto.
DETECTION_LINES = 50
MAX_LOGGED_SAMPLES = 5
SAMPLE_CHARS = 200


class AccessLogProcessor:
    name = "access-log"

    def __init__(
        self, objects: ObjectStore, log_format: str = AUTO, logger: logging.Logger | None = None
    ) -> None:
        self._objects = objects
        self._format = None if log_format == AUTO else LogFormat(log_format)
        self._logger = logger or get_logger()

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        aggregate = Aggregate()
        lines = rejected = 0
        with self._objects.open(obj) as body:
            stream = iter_lines(open_text(body))
            head = list(itertools.islice(stream, DETECTION_LINES))
            log_format = self._format or detect_format(head) or LogFormat.COMBINED
            parser = LineParser(log_format)
            for number, line in enumerate(_chain(head, stream), start=1):
                if not line:
                    continue  # a blank line is not a request
                lines += 1
                entry = None if isinstance(line, TooLongLine) else parser.parse(line)
                if entry is None:
                    rejected += 1
                    if rejected <= MAX_LOGGED_SAMPLES:
                        self._log_rejected(obj, number, line, log_format)
                    continue
                aggregate.add(entry)
        return ProcessingResult(
            summary={
                "format": log_format.value,
                "lines": lines,
                "accepted": lines - rejected,
                "rejected": rejected,
                "hours": len(aggregate.hours),
            },
            increments=aggregate.increments(),
        )

    def _log_rejected(self, obj: ObjectRef, number: int, line: bytes, fmt: LogFormat) -> None:
        log(
            self._logger,
            logging.WARNING,
            "access log line rejected",
            bucket=obj.bucket,
            key=obj.key,
            line_number=number,
            format=fmt.value,
            too_long=isinstance(line, TooLongLine),
            sample=line[:SAMPLE_CHARS].decode("utf-8", errors="replace"),
        )


def _chain(head: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from head
    yield from rest
