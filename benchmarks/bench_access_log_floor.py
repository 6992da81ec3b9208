"""Access-log aggregation next to its floor: `gzip -dc FILE | wc -l` (`wc -l` for plain files).

Uses `benchmarks/bench_access_log.py` (the files it generates, its aggregation in a fresh
interpreter with throughput and peak memory) and times the floor on each file right after its
aggregation, in the same run: the ratio holds where MB/s from another day or machine does not.
The targets are judged on the gzip files, whose floor is the one the targets name; a plain
file's floor (`wc -l`) only shows how far reading alone could go.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks import bench_access_log
from tests.access_log_data import write_repeated_gzip

# The runner runs these through this module, not on their own.
INCLUDES = ("benchmarks.bench_access_log",)
FLOOR_RUNS = 3


def floor_seconds(path: Path) -> float:
    command = f"gzip -dc '{path}' | wc -l" if path.suffix == ".gz" else f"wc -l < '{path}'"
    timings = []
    for _ in range(FLOOR_RUNS):
        started = time.perf_counter()
        subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=600)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> list[dict[str, object]]:
    """The files of `bench_access_log.main()`, each aggregated (its `probe` and `row`), then
    timed through the floor, one file after the other so both see the same load."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in ("combined", "s3"):
            data = bench_access_log.block(fmt)
            repeats = max(1, bench_access_log.TARGET_BYTES // len(data))
            size = len(data) * repeats
            plain = Path(scratch) / f"{fmt}.log"
            with plain.open("wb") as out:
                for _ in range(repeats):
                    out.write(data)
            packed = Path(scratch) / f"{fmt}.log.gz"
            write_repeated_gzip(packed, data, repeats)
            for path in (plain, packed):
                started = time.perf_counter()
                report = bench_access_log.probe(path)
                parsed = bench_access_log.row(path, size, report, time.perf_counter() - started)
                floor_mbps = size / 1e6 / floor_seconds(path)
                mbps = float(str(parsed["MB/s"]))
                rows.append(
                    {
                        "file": path.name,
                        "uncompressed MB": parsed["uncompressed MB"],
                        "of the floor": f"{mbps / floor_mbps:.0%}",
                        "MB/s": mbps,
                        "floor MB/s": round(floor_mbps, 1),
                        "lines/s": parsed["lines/s"],
                        "peak RSS MiB": parsed["peak RSS MiB"],
                        "growth while aggregating MiB": parsed["growth while aggregating MiB"],
                    }
                )
    return rows


TARGETS = {"combined": 0.20, "s3": 0.40}


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        name = str(row["file"])
        if not name.endswith(".gz"):
            continue
        share = float(str(row["of the floor"]).rstrip("%")) / 100
        target = TARGETS[name.split(".", 1)[0]]
        lines.append(
            f"{name}: {share:.0%} of the floor (target ≥ {target:.0%}): "
            + ("met" if share >= target else f"missed by {target - share:.0%} of the floor")
        )
    return lines
