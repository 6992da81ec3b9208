"""Run every `benchmarks/bench_*.py` module's `main()` and print its rows as a table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from s3once.render import table

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

Rows = Sequence[Mapping[str, object]]


def bench_modules() -> list[str]:
    return sorted(
        f"benchmarks.{info.name}"
        for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
        if info.name.startswith("bench_")
    )


def main() -> None:
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    for name in bench_modules():
        run: Callable[[], Rows] | None = getattr(importlib.import_module(name), "main", None)
        if run is None:
            continue
        rows = run()
        print(f"\n{name}")
        if rows:
            headers = list(rows[0])
            print(table(headers, [[row.get(h, "") for h in headers] for row in rows]))


if __name__ == "__main__":
    main()
