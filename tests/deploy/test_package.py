"""The deployment package (`make package`): app.py, chalicelib and Chalice's runtime module with
their bytecode for the runtime's Python, nothing else, and the same bytes on every build."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from tests.deploy.project import copy_project
from tests.deploy.stages import PROJECT_DIR

# Chalice adds its own runtime module, which app.py imports; nothing else may come along.
CHALICE_RUNTIME = {"chalice/__init__.py", "chalice/app.py"}
# Sources and their bytecode (about 3x the sources alone); a vendored library would not fit:
# boto3 is ~1 MB zipped, Powertools' sources alone ~1 MB. (326 KB with the reconciliation.)
MAX_PACKAGE_BYTES = 384 * 1024
CACHE_TAG = sys.implementation.cache_tag
UNCHECKED_HASH_FLAGS = 0b01  # hash-based, source not checked (PEP 552)
STALE = f"chalicelib/__pycache__/renamed_module.{CACHE_TAG}.pyc"


def bytecode_name(source: str) -> str:
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{CACHE_TAG}.pyc").removeprefix("./")


def sources() -> set[str]:
    return (
        {"app.py"}
        | {
            path.relative_to(PROJECT_DIR).as_posix()
            for path in (PROJECT_DIR / "chalicelib").rglob("*.py")
        }
        | CHALICE_RUNTIME
    )


def unexpected_entries(names: list[str]) -> list[str]:
    allowed = sources()
    allowed |= {bytecode_name(source) for source in allowed}
    return sorted(name for name in names if name not in allowed)


def build(project: Path, out: Path) -> Path:
    """`make package` as a user runs it: bytecode writing on, as in an ordinary shell."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.package", "--project-dir", str(project), "--out", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "deployment.zip"


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two builds in a row from a tree where Python has already left bytecode of its own."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    stale = project / STALE
    stale.parent.mkdir()
    py_compile.compile(str(project / "chalicelib" / "core" / "keys.py"), cfile=str(stale))
    out = tmp_path_factory.mktemp("build")
    first = build(project, out / "first")
    second = build(project, out / "second")
    return first, second


def test_two_builds_in_a_row_are_byte_identical(builds: tuple[Path, Path]) -> None:
    first, second = builds

    assert first.read_bytes() == second.read_bytes()


def test_the_package_holds_the_sources_and_their_bytecode_and_nothing_else(
    builds: tuple[Path, Path],
) -> None:
    with zipfile.ZipFile(builds[1]) as archive:
        names = archive.namelist()

    assert STALE not in names
    assert unexpected_entries(names) == []
    assert set(names) == sources() | {bytecode_name(source) for source in sources()}
    assert names == sorted(names)


def test_the_bytecode_is_unchecked_hash_bytecode_of_the_packaged_sources(
    builds: tuple[Path, Path],
) -> None:
    with zipfile.ZipFile(builds[1]) as archive:
        for source in sources():
            code = archive.read(source)
            pyc = archive.read(bytecode_name(source))

            assert pyc[:4] == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(pyc[4:8], "little") == UNCHECKED_HASH_FLAGS, source
            assert pyc[8:16] == importlib.util.source_hash(code), source


def test_every_entry_has_one_time_and_one_mode(builds: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(builds[1]) as archive:
        stamps = {(info.date_time, info.external_attr) for info in archive.infolist()}

    assert stamps == {((1980, 1, 1, 0, 0, 0), 0o100644 << 16)}


def test_the_package_stays_small_without_vendored_dependencies(
    builds: tuple[Path, Path],
) -> None:
    size = builds[1].stat().st_size

    assert size < MAX_PACKAGE_BYTES, f"deployment.zip is {size} bytes"


def test_a_vendored_library_or_stray_file_is_reported() -> None:
    names = [
        "app.py",
        "chalicelib/core/keys.py",
        f"chalicelib/core/__pycache__/keys.{CACHE_TAG}.pyc",
        "boto3/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "chalicelib/notes.txt",
        STALE,
    ]

    assert unexpected_entries(names) == sorted(
        ["boto3/__init__.py", "aws_lambda_powertools/__init__.py", "chalicelib/notes.txt", STALE]
    )
