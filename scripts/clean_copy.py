"""The clean copy of the sources that `make package` and `make deploy` both run Chalice on.

Chalice packages the project directory as it is: run in the working tree, it would ship every
`__pycache__` that tests, a shell or an earlier build left in `chalicelib/` (timestamp-based
bytecode, which never validates once Lambda extracts the zip: every entry is dated 1980-01-01),
and never the bytecode Lambda could use. Here:

1. Only the files git tracks or would track (not ignored) that belong in the package are
   copied (`app.py`, `chalicelib/`, `requirements.txt`, `.chalice/` config and policies);
   outside a git checkout (a copy of the project), the same paths without any bytecode.
2. With bytecode (the default), every module the function imports is compiled for this Python
   (the runtime Chalice chooses for the functions) with `--invalidation-mode unchecked-hash`:
   Lambda's `/var/task` is read-only, so without it every cold start compiles every module, and
   an unchecked-hash `.pyc` is used as is, whatever the files' times. `chalicelib/`'s bytecode
   sits beside its sources; that of `app.py` and of Chalice's runtime module (`chalice/app.py`,
   `chalice/__init__.py`, which Chalice adds from its installation) goes under `vendor/`, whose
   contents Chalice copies to the package's top level. The compilation runs with a fixed hash
   seed (set and frozenset constants are marshalled in iteration order), so builds are
   byte-identical.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# What Chalice reads to build the package; nothing else is copied.
PACKAGE_PATHS = ("app.py", "chalicelib", "requirements.txt", ".chalice")
LAMBDA_TASK_DIR = "/var/task"
VENDOR_DIR = "vendor"
_UNTRACKED_CHALICE_FILES = ("config.json", "policy-*.json")


def package_files(project_dir: Path) -> list[str]:
    """The files to copy, relative to `project_dir`: those under PACKAGE_PATHS that git tracks
    or would track (a processor just written and not yet added is deployed too; what
    .gitignore names, such as `__pycache__`, never is)."""
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            *PACKAGE_PATHS,
        ],
        cwd=project_dir,
        capture_output=True,
        timeout=60,
    )
    if listed.returncode == 0 and listed.stdout:
        names = listed.stdout.decode().split("\0")
        return sorted(name for name in names if name and (project_dir / name).is_file())
    return _files_outside_git(project_dir)


def _files_outside_git(project_dir: Path) -> list[str]:
    found = [
        path.relative_to(project_dir).as_posix()
        for path in (project_dir / "chalicelib").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    found += [name for name in ("app.py", "requirements.txt") if (project_dir / name).is_file()]
    for pattern in _UNTRACKED_CHALICE_FILES:
        found += [f".chalice/{path.name}" for path in (project_dir / ".chalice").glob(pattern)]
    return sorted(found)


def clean_copy(project_dir: Path, destination: Path, *, bytecode: bool = True) -> Path:
    """Copy the package's sources of `project_dir` into `destination`, with their bytecode."""
    for name in package_files(project_dir):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project_dir / name, target)
    if bytecode:
        add_bytecode(destination)
    return destination


def add_bytecode(project: Path) -> None:
    """Unchecked-hash bytecode of every module the package will hold, where Chalice takes it."""
    import chalice
    import chalice.app

    sources = {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in [project / "app.py", *sorted((project / "chalicelib").rglob("*.py"))]
    }
    for module, name in ((chalice.app, "chalice/app.py"), (chalice, "chalice/__init__.py")):
        sources[name] = Path(str(module.__file__)).read_bytes()
    for name, data in compile_unchecked(sources, project.parent / "bytecode").items():
        target = project / (name if name.startswith("chalicelib/") else f"{VENDOR_DIR}/{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def compile_unchecked(sources: Mapping[str, bytes], scratch: Path) -> dict[str, bytes]:
    """Compile `sources` (package name -> bytes) as Lambda will import them from /var/task;
    returns each `.pyc` by its package name (`chalicelib/__pycache__/...`)."""
    tree = scratch / "task"
    for name, data in sources.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-f",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(tree),
            "-p",
            LAMBDA_TASK_DIR,
            str(tree),
        ],
        env=env,
        check=True,
        timeout=300,
    )
    compiled = {
        path.relative_to(tree).as_posix(): path.read_bytes()
        for path in tree.rglob("__pycache__/*.pyc")
    }
    shutil.rmtree(scratch)
    return compiled
