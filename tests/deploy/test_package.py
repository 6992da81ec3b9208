"""The Lambda deployment package holds the app and chalicelib only: boto3 comes with the runtime."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.deploy.stages import PROJECT_DIR

# Chalice adds its own runtime module, which app.py imports; nothing else may come along.
CHALICE_RUNTIME = {"chalice/__init__.py", "chalice/app.py"}
MAX_PACKAGE_BYTES = 200 * 1024


def unexpected_entries(names: list[str]) -> list[str]:
    return sorted(
        name
        for name in names
        if name not in CHALICE_RUNTIME
        and name != "app.py"
        and not (name.startswith("chalicelib/") and name.endswith(".py"))
    )


def source_files() -> set[str]:
    files = {"app.py"} | {
        str(path.relative_to(PROJECT_DIR)) for path in (PROJECT_DIR / "chalicelib").rglob("*.py")
    }
    return files


def test_the_package_holds_app_py_and_chalicelib_and_nothing_else(
    terraform_package: Path,
) -> None:
    with zipfile.ZipFile(terraform_package / "deployment.zip") as archive:
        names = archive.namelist()

    assert unexpected_entries(names) == []
    assert set(names) - CHALICE_RUNTIME == source_files()


def test_the_package_stays_small_without_vendored_dependencies(terraform_package: Path) -> None:
    size = (terraform_package / "deployment.zip").stat().st_size

    assert size < MAX_PACKAGE_BYTES, f"deployment.zip is {size} bytes"


def test_a_vendored_library_or_stray_file_is_reported() -> None:
    names = ["app.py", "chalicelib/keys.py", "boto3/__init__.py", "chalicelib/notes.txt"]

    assert unexpected_entries(names) == ["boto3/__init__.py", "chalicelib/notes.txt"]
