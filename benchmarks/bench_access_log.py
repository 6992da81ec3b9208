"""Access-log aggregation next to its floor, measured in the same run, and its worst cases.

Throughput on a shared machine varies with load; its ratio to a floor measured right beside it
varies less, and a ratio of CPU times (what the processes used, not how long they waited for a
core) least. The floor of a gzip log is `gzip -dc FILE | wc -l` (inflating and finding the
lines, nothing else: the CPU of both processes counts); the floor of a plain log is
`wc -l < FILE`. Each floor is the median of runs interleaved with the aggregation; every row
prints both ratios (floor / aggregation, by CPU time and by wall time) beside the absolute MB/s.

The hostile rows are plain files built to cost the most per byte (gzip would only let the
ratio budget refuse them sooner): their MB/s bounds the time any accepted file can take.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.access_log_data import log_bytes, requests, write_repeated_gzip

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET_BYTES = 200 * 1024 * 1024
HOSTILE_BYTES = 64 * 1024 * 1024
BLOCK_REQUESTS = 10_000
TARGETS = {("combined", True): 0.20, ("s3", True): 0.40}  # of the gzip floor


def probe(path: Path) -> dict[str, Any]:
    """Run the aggregation of `path` in a fresh interpreter; its JSON report."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.access_log_probe", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
        timeout=900,
    ).stdout
    report: dict[str, Any] = json.loads(output)
    return report


def floor_seconds(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of the floor for `path` (gzip or plain), each the median of 3 runs."""
    command = f"gzip -dc '{path}' | wc -l" if path.suffix == ".gz" else f"wc -l < '{path}'"
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, shell=True, check=True, capture_output=True, timeout=600)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def row(
    name: str, path: Path, size: int, report: dict[str, Any], floor: tuple[float, float]
) -> dict[str, object]:
    seconds, cpu = float(report["seconds"]), float(report["cpu_seconds"])
    floor_wall, floor_cpu = floor
    peak_kib, baseline_kib = int(report["peak_rss_kib"]), int(report["baseline_rss_kib"])
    gzip = path.suffix == ".gz"
    target = TARGETS.get((name, gzip))
    return {
        "file": f"{name}{', gzip' if gzip else ''}",
        "MB": round(size / 1e6),
        "on disk MB": round(path.stat().st_size / 1e6, 1),
        "floor": "gzip -dc | wc -l" if gzip else "wc -l",
        "ratio (CPU)": f"{floor_cpu / cpu:.0%}",
        "ratio (wall)": f"{floor_wall / seconds:.0%}",
        "target": f">= {target:.0%}" if target else "",
        "MB/s": round(size / 1e6 / seconds, 1),
        "CPU MB/s": round(size / 1e6 / cpu, 1),
        "floor MB/s": round(size / 1e6 / floor_wall, 1),
        "lines/s": int(int(report["summary"]["lines"]) / seconds),
        "peak RSS MiB": round(peak_kib / 1024, 1),
        "growth MiB": round((peak_kib - baseline_kib) / 1024, 1),
    }


def block(fmt: str) -> bytes:
    return log_bytes(requests(BLOCK_REQUESTS, hours=48, seed=11), fmt, garbage_every=1000)


def _repeat(path: Path, unit: bytes, size: int) -> int:
    repeats = max(1, size // len(unit))
    with path.open("wb") as out:
        for _ in range(repeats):
            out.write(unit)
    return len(unit) * repeats


def _hostile_units() -> dict[str, Callable[[], bytes]]:
    stamp = b"[01/Mar/2026:10:00:00 +0000]"
    return {
        "hostile: newlines only": lambda: b"\n" * 65536,
        "hostile: 1-byte lines": lambda: b"x\n" * 32768,
        "hostile: escaped quotes, never closed": lambda: (
            b"h - - " + stamp + b' "' + b'\\"' * 30_000 + b"\n"
        ),
        "hostile: 64 KiB lines of one field": lambda: b"a" * 65_000 + b"\n",
        "hostile: lines too long (100 KiB)": lambda: b"a b " * 25_600 + b"\n",
        "hostile: space-separated 1-byte fields": lambda: b"a " * 32_000 + b"\n",
        "hostile: a new count key on every line": _distinct_keys,
    }


def _distinct_keys() -> bytes:
    """Lines of one hour that never repeat (minute, offset, status): more keys than are kept."""
    hour = requests(1, hours=1, seed=1)[0].at.strftime("%d/%b/%Y:%H")
    return b"".join(
        f'h - - [{hour}:{minute:02d}:00 {sign}0000] "GET /" {status} 1\n'.encode()
        for sign in "+-"
        for minute in range(60)
        for status in range(100, 1000)
    )


def main() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in ("combined", "s3"):
            data = block(fmt)
            plain = Path(scratch) / f"{fmt}.log"
            size = _repeat(plain, data, TARGET_BYTES)
            packed = Path(scratch) / f"{fmt}.log.gz"
            write_repeated_gzip(packed, data, size // len(data))
            for path in (plain, packed):
                before = floor_seconds(path)
                report = probe(path)
                after = floor_seconds(path)
                floor = (min(before[0], after[0]), min(before[1], after[1]))
                rows.append(row(fmt, path, size, report, floor))
        for name, unit in _hostile_units().items():
            path = Path(scratch) / "hostile.log"
            size = _repeat(path, unit(), HOSTILE_BYTES)
            floor = floor_seconds(path)
            rows.append(row(name, path, size, probe(path), floor))
    return rows
