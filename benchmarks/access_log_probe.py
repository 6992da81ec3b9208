"""Aggregate one local log file in this process and report its peak memory and speed as JSON.

Usage: python -m benchmarks.access_log_probe FILE. Runs in a process of its own, and reads
the peak resident size from /proc (VmHWM, per address space, so not inherited from the parent
as ru_maxrss is across fork and exec). The peak is reset to the current size once the imports
are done, so `peak - baseline` is what the aggregation itself added.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import BinaryIO

from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ObjectMetadata, UnguardedWork
from chalicelib.processors.access_log.aggregate import HourTotals
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.settings import AccessLogSettings


class FileStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    def head(self, obj: ObjectRef) -> ObjectMetadata:
        return ObjectMetadata("text/plain", self._path.stat().st_size, "local")

    def open(self, obj: ObjectRef) -> BinaryIO:
        return self._path.open("rb", buffering=0)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is not in /proc/self/status")


def reset_peak_rss() -> int:
    """Make the current resident size the peak (Linux: "5" > clear_refs); returns it in KiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not allowed here: the peak so far (imports) becomes the baseline
        return _status_kib("VmHWM")
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    return _status_kib("VmHWM")


def main(path: Path) -> dict[str, object]:
    logger = logging.getLogger("benchmarks.access_log")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    processor = AccessLogProcessor(FileStore(path), AccessLogSettings(shards=1), logger=logger)
    baseline = reset_peak_rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = processor.process(ObjectRef("local", str(path), etag="local"), UnguardedWork())
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": peak_rss_kib(),
        "summary": dict(result.summary),
        "totals": {i.key: HourTotals.from_counters(i.deltas).to_json() for i in result.increments},
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
