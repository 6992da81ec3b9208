"""Access-log aggregation next to its floor: `gzip -dc FILE | wc -l` (`wc -l` for plain files).

Runs `benchmarks/bench_access_log.py` (throughput and peak memory of the aggregation in a
fresh interpreter), then times the floor on the same files, generated again from the same seed
(byte for byte the same), in the same run: the ratio holds where MB/s from another day or
machine does not.
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


def floors() -> dict[str, tuple[float, float]]:
    """File name -> (floor MB/s, uncompressed MB), on the files bench_access_log aggregates."""
    result = {}
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in ("combined", "s3"):
            data = bench_access_log.block(fmt)
            repeats = max(1, bench_access_log.TARGET_BYTES // len(data))
            size_mb = len(data) * repeats / 1e6
            plain = Path(scratch) / f"{fmt}.log"
            with plain.open("wb") as out:
                for _ in range(repeats):
                    out.write(data)
            packed = Path(scratch) / f"{fmt}.log.gz"
            write_repeated_gzip(packed, data, repeats)
            for path in (plain, packed):
                result[path.name] = (size_mb / floor_seconds(path), size_mb)
    return result


def main() -> list[dict[str, object]]:
    parsed = bench_access_log.main()
    floor = floors()
    rows = []
    for row in parsed:
        floor_mbps, _ = floor[str(row["file"])]
        mbps = float(str(row["MB/s"]))
        rows.append(
            {
                "file": row["file"],
                "uncompressed MB": row["uncompressed MB"],
                "of the floor": f"{mbps / floor_mbps:.0%}",
                "MB/s": mbps,
                "floor MB/s": round(floor_mbps, 1),
                "lines/s": row["lines/s"],
                "peak RSS MiB": row["peak RSS MiB"],
                "growth while aggregating MiB": row["growth while aggregating MiB"],
            }
        )
    return rows


TARGETS = {"combined": 0.20, "s3": 0.40}


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        name = str(row["file"])
        share = float(str(row["of the floor"]).rstrip("%")) / 100
        target = TARGETS[name.split(".", 1)[0]]
        lines.append(
            f"{name}: {share:.0%} of the floor (target ≥ {target:.0%}): "
            + ("met" if share >= target else f"missed by {target - share:.0%} of the floor")
        )
    return lines
