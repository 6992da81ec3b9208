"""Access-log aggregation: throughput and peak memory growth on a 200 MB log, plain and gzip."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.access_log_data import log_bytes, requests, write_repeated_gzip

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET_BYTES = 200 * 1024 * 1024
BLOCK_REQUESTS = 10_000


def probe(path: Path) -> dict[str, Any]:
    """Run the aggregation of `path` in a fresh interpreter; its JSON report."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.access_log_probe", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
        timeout=600,
    ).stdout
    report: dict[str, Any] = json.loads(output)
    return report


def row(path: Path, size: int, report: dict[str, Any], wall: float) -> dict[str, object]:
    seconds = float(report["seconds"])
    lines = int(report["summary"]["lines"])
    peak_kib, baseline_kib = int(report["peak_rss_kib"]), int(report["baseline_rss_kib"])
    return {
        "file": path.name,
        "uncompressed MB": round(size / 1e6),
        "on disk MB": round(path.stat().st_size / 1e6, 1),
        "lines": lines,
        "seconds": round(seconds, 1),
        "MB/s": round(size / 1e6 / seconds, 1),
        "lines/s": int(lines / seconds),
        "peak RSS MiB": round(peak_kib / 1024, 1),
        "growth while aggregating MiB": round((peak_kib - baseline_kib) / 1024, 1),
        "wall s": round(wall, 1),
    }


def block(fmt: str) -> bytes:
    return log_bytes(requests(BLOCK_REQUESTS, hours=48, seed=11), fmt, garbage_every=1000)


def main() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in ("combined", "s3"):
            data = block(fmt)
            repeats = max(1, TARGET_BYTES // len(data))
            plain = Path(scratch) / f"{fmt}.log"
            with plain.open("wb") as out:
                for _ in range(repeats):
                    out.write(data)
            packed = Path(scratch) / f"{fmt}.log.gz"
            write_repeated_gzip(packed, data, repeats)
            for path in (plain, packed):
                started = time.perf_counter()
                report = probe(path)
                wall = time.perf_counter() - started
                rows.append(row(path, len(data) * repeats, report, wall))
    return rows
