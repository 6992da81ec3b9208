"""A 200 MB gzip log aggregates correctly in a process whose memory does not follow its size."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_access_log import probe
from tests.access_log_data import log_bytes, requests, scaled, truth, write_repeated_gzip

UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Generous bounds, yet holding even the compressed file (21 MB) in memory breaks them.
MAX_PEAK_RSS_MIB = 64
MAX_GROWTH_MIB = 16


@pytest.mark.slow
def test_a_200_mb_gzip_log_aggregates_exactly_with_bounded_peak_memory(tmp_path: Path) -> None:
    items = requests(10_000, hours=48, seed=5)
    block = log_bytes(items, "combined", garbage_every=500)
    repeats = UNCOMPRESSED_BYTES // len(block) + 1
    path = tmp_path / "big.log.gz"
    size = write_repeated_gzip(path, block, repeats)

    report = probe(path)

    assert size >= UNCOMPRESSED_BYTES
    assert report["totals"] == scaled(truth(items), repeats)
    assert report["summary"]["rejected"] == 20 * repeats
    assert report["peak_rss_kib"] / 1024 < MAX_PEAK_RSS_MIB
    assert (report["peak_rss_kib"] - report["baseline_rss_kib"]) / 1024 < MAX_GROWTH_MIB
