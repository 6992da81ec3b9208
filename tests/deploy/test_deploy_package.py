"""What `make deploy` ships: Chalice's packager (the one `chalice deploy` uses) run on the clean
copy, after Python has written timestamp-based bytecode all over the working tree, as `make test`
or a shell does. Every `.pyc` in the package is unchecked-hash bytecode of the source beside it;
none is timestamp-based, and every module has one."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from scripts.clean_copy import clean_copy, package_files
from scripts.package import run_chalice_package
from tests.deploy.stages import PROJECT_DIR

CACHE_TAG = sys.implementation.cache_tag
UNCHECKED_HASH_FLAGS = 0b01  # hash-based, source not checked (PEP 552)
TIMESTAMP_FLAGS = 0b00
IMPORT_EVERYTHING = (
    "import app, pkgutil, importlib, chalicelib\n"
    "for m in pkgutil.walk_packages(chalicelib.__path__, 'chalicelib.'):\n"
    "    importlib.import_module(m.name)\n"
)


def working_tree_bytecode() -> list[Path]:
    return sorted(PROJECT_DIR.glob("chalicelib/**/__pycache__/*.pyc"))


@pytest.fixture(scope="module")
def deployed_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env |= {"APP_BUCKET_NAME": "uploads", "LOCK_TABLE_NAME": "locks"}
    subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], cwd=PROJECT_DIR, env=env, check=True, timeout=120
    )
    assert working_tree_bytecode(), "the working tree should hold bytecode before packaging"
    scratch = tmp_path_factory.mktemp("deploy")
    project = clean_copy(PROJECT_DIR, scratch / "project")
    run_chalice_package(project, "dev", "terraform", scratch / "out")
    return scratch / "out" / "deployment.zip"


def test_the_working_trees_bytecode_is_timestamp_based_and_never_copied(
    deployed_zip: Path, tmp_path: Path
) -> None:
    stale = working_tree_bytecode()
    flags = int.from_bytes(stale[0].read_bytes()[4:8], "little")
    copied = clean_copy(PROJECT_DIR, tmp_path / "project", bytecode=False)

    assert flags == TIMESTAMP_FLAGS
    assert not list(copied.rglob("*.pyc"))
    assert all("__pycache__" not in name for name in package_files(PROJECT_DIR))


def test_every_pyc_in_the_package_is_unchecked_hash_bytecode_of_its_source(
    deployed_zip: Path,
) -> None:
    with zipfile.ZipFile(deployed_zip) as archive:
        names = archive.namelist()
        compiled = [name for name in names if name.endswith(".pyc")]
        for name in compiled:
            pyc = archive.read(name)
            path = PurePosixPath(name)
            source = path.parent.parent / (path.name.removesuffix(f".{CACHE_TAG}.pyc") + ".py")

            assert path.parent.name == "__pycache__" and path.name.endswith(f".{CACHE_TAG}.pyc")
            assert pyc[:4] == importlib.util.MAGIC_NUMBER, name
            assert int.from_bytes(pyc[4:8], "little") == UNCHECKED_HASH_FLAGS, name
            assert pyc[8:16] == importlib.util.source_hash(archive.read(str(source))), name

    assert compiled


def test_every_module_in_the_package_has_its_bytecode(deployed_zip: Path) -> None:
    with zipfile.ZipFile(deployed_zip) as archive:
        names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}

    missing = sorted(
        source
        for source in sources
        if str(
            PurePosixPath(source).parent
            / "__pycache__"
            / f"{PurePosixPath(source).stem}.{CACHE_TAG}.pyc"
        ).removeprefix("./")
        not in names
    )
    assert {"app.py", "chalice/app.py", "chalicelib/composition.py"} <= sources
    assert missing == []


def test_a_module_not_yet_added_to_git_is_packaged_and_an_ignored_one_is_not(
    tmp_path: Path,
) -> None:
    # A user who followed "writing a processor" and deploys before `git add` ships the module.
    project = tmp_path / "project"
    (project / "chalicelib" / "processors").mkdir(parents=True)
    (project / "app.py").write_text("", encoding="utf-8")
    (project / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "app.py", ".gitignore"], cwd=project, check=True)
    (project / "chalicelib" / "processors" / "line_count.py").write_text("", encoding="utf-8")
    cache = project / "chalicelib" / "processors" / "__pycache__"
    cache.mkdir()
    (cache / "line_count.cpython-311.pyc").write_bytes(b"stale")

    assert package_files(project) == ["app.py", "chalicelib/processors/line_count.py"]
