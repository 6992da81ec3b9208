"""Run every `benchmarks/bench_*.py` module's `main()`, print its rows, write docs/benchmarks.md.

`python -m benchmarks [--write FILE] [--only TEXT]`: `--write` saves the report as Markdown
(`make bench` writes docs/benchmarks.md), `--only` runs the modules whose name contains TEXT.
A module may define `summary(rows) -> list[str]`: its verdicts, printed under its table.
The file's text above `GENERATED_MARK` is written by hand and kept; everything below is replaced.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

Rows = Sequence[Mapping[str, object]]
GENERATED_MARK = "<!-- Written by `make bench` below this line; edit only above it. -->"


def kept_preface(path: Path) -> str:
    """The hand-written text above the generated part of `path`, if it has one."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    preface, marked, _ = text.partition(GENERATED_MARK)
    return preface if marked else "# Benchmarks\n\n"


def bench_modules() -> list[str]:
    return sorted(
        f"benchmarks.{info.name}"
        for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
        if info.name.startswith("bench_")
    )


def markdown_table(rows: Rows) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += [
        "| " + " | ".join(str(row.get(h, "")).replace("|", "\\|") for h in headers) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def section(module: ModuleType, rows: Rows, lines: list[str], seconds: float) -> str:
    doc = (module.__doc__ or module.__name__).strip()
    title, _, body = doc.partition("\n")
    parts = [f"## {title.rstrip('.')}", "", f"`{module.__name__}`, {seconds:.0f} s."]
    if body.strip():
        parts += ["", body.strip()]
    if rows:
        parts += ["", markdown_table(rows)]
    if lines:
        parts += ["", *[f"- {line}" for line in lines]]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--write", type=Path, help="save the report as Markdown")
    parser.add_argument("--only", default="", help="run only modules whose name contains this")
    args = parser.parse_args(argv)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    from benchmarks.machine import describe
    from s3once.output import table

    names = [name for name in bench_modules() if args.only in name]
    modules = {name: importlib.import_module(name) for name in names}
    machine_before = describe()
    sections: list[str] = []
    for name, module in modules.items():
        run: Callable[[], Rows] | None = getattr(module, "main", None)
        if run is None:
            continue
        started = time.perf_counter()
        rows = run()
        seconds = time.perf_counter() - started
        verdicts: list[str] = getattr(module, "summary", lambda _: [])(rows) if rows else []
        print(f"\n{name} ({seconds:.0f} s)")
        if rows:
            headers = list(rows[0])
            print(table(headers, [[row.get(h, "") for h in headers] for row in rows]))
        for line in verdicts:
            print(f"  {line}")
        sections.append(section(module, rows, verdicts, seconds))
    if args.write:
        report = [
            kept_preface(args.write) + GENERATED_MARK,
            "",
            "## The last run",
            "",
            "Written by `make bench` (`python -m benchmarks --write docs/benchmarks.md`); do not"
            " edit by hand. Every figure is measured in this one run, beside its floor or peer:"
            " on a shared machine absolute times vary up to 2x with load, the ratios hold.",
            "",
            "## Machine",
            "",
            markdown_table(
                [
                    {"": key, "at start": value, "at end": describe().get(key, "")}
                    for key, value in machine_before.items()
                ]
            ),
            "",
            *[part + "\n" for part in sections],
        ]
        args.write.write_text("\n".join(report).rstrip() + "\n", encoding="utf-8")
        print(f"\nwrote {args.write}")


if __name__ == "__main__":
    main()
