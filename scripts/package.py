"""Build the deployment package deterministically, with bytecode for the runtime's Python.

`chalice package` zips `app.py`, `chalicelib/` and Chalice's runtime module, and it imports
`app.py` to do so. Here:

1. Chalice runs on the clean copy `make deploy` deploys from (`scripts/clean_copy.py`): the
   files git tracks, with unchecked-hash bytecode compiled for the runtime's Python, and no
   `__pycache__` of the working tree (from tests, a shell, an earlier build).
2. The zip is rewritten with its entries sorted, one fixed time and one file mode, so two
   builds are byte-identical.

Usage: `python -m scripts.package --stage dev --out build/package/dev` (`make package`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from scripts.clean_copy import PROJECT_DIR, clean_copy

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = stat.S_IFREG | 0o644
DEFAULT_REGION = "us-east-1"
_RUNTIME = re.compile(r'"[Rr]untime":\s*"python(\d+)\.(\d+)"')


class PackageError(Exception):
    """The package cannot be built as asked (for example bytecode for another Python)."""


def stage_variables(project: Path) -> set[str]:
    """Every variable a stage of `.chalice/config.json` sets, whichever processor it is for."""
    config = json.loads((project / ".chalice" / "config.json").read_text())
    names = set(config.get("environment_variables", {}))
    for stage in config.get("stages", {}).values():
        names.update(stage.get("environment_variables", {}))
    return names


def chalice_environment(
    environ: Mapping[str, str], project: Path, default_region: str | None = DEFAULT_REGION
) -> dict[str, str]:
    """Chalice's environment: the app's settings come from the stage, never from the shell
    that runs the build, so every variable a stage sets is dropped."""
    app_variables = stage_variables(project)
    env = {name: value for name, value in environ.items() if name not in app_variables}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the copy is thrown away; keep it clean regardless
    if default_region and not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        # Chalice insists on a region even to write a package; the deployment chooses its own.
        env["AWS_DEFAULT_REGION"] = default_region
    return env


def run_chalice_package(project: Path, stage: str, pkg_format: str, out: Path) -> None:
    chalice = Path(sys.executable).parent / "chalice"
    result = subprocess.run(
        [str(chalice), "package", "--pkg-format", pkg_format, "--stage", stage, str(out)],
        cwd=project,
        env=chalice_environment(os.environ, project),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}{result.stderr}")


def runtime_versions(out: Path) -> set[tuple[int, int]]:
    """The Python versions the generated templates name as the functions' runtime."""
    found: set[tuple[int, int]] = set()
    for template in out.glob("*.json"):
        for major, minor in _RUNTIME.findall(template.read_text()):
            found.add((int(major), int(minor)))
    return found


def normalise(archive: Path) -> list[str]:
    """Rewrite `archive` deterministically; returns its entry names."""
    with zipfile.ZipFile(archive) as source:
        entries = {
            info.filename: source.read(info) for info in source.infolist() if not info.is_dir()
        }
    names = sorted(entries)
    rewritten = archive.with_suffix(".tmp")
    with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is read as such
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, entries[name], compresslevel=9)
    rewritten.replace(archive)
    return names


def build(
    out: Path,
    stage: str = "dev",
    pkg_format: str = "terraform",
    bytecode: bool = True,
    project_dir: Path = PROJECT_DIR,
) -> Path:
    """Build the stage's package into `out` (emptied first); returns the deployment zip."""
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as scratch:
        project = clean_copy(project_dir, Path(scratch) / "project", bytecode=bytecode)
        run_chalice_package(project, stage, pkg_format, out)
    runtimes = runtime_versions(out)
    if bytecode and runtimes != {sys.version_info[:2]}:
        raise PackageError(
            f"the functions run on Python {sorted(runtimes)}, this is Python"
            f" {sys.version_info[:2]}: build with the runtime's Python, or --no-bytecode"
        )
    archive = out / "deployment.zip"
    normalise(archive)
    return archive


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--pkg-format", choices=("terraform", "cloudformation"), default="terraform"
    )
    parser.add_argument("--no-bytecode", dest="bytecode", action="store_false")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    args = parser.parse_args(argv)
    try:
        archive = build(args.out, args.stage, args.pkg_format, args.bytecode, args.project_dir)
    except PackageError as exc:
        raise SystemExit(str(exc)) from None
    with zipfile.ZipFile(archive) as built:
        count = len(built.namelist())
    print(json.dumps({"package": str(archive), "bytes": archive.stat().st_size, "files": count}))


if __name__ == "__main__":
    main()
