"""`chalice deploy` of a stage from the clean copy `make package` builds from (`make deploy`).

`chalice deploy` run in the working tree packages it as it is: after `make test` that is some
twenty timestamp-based `__pycache__/*.pyc` that never validate on Lambda, and no bytecode
Lambda can use. Here Chalice deploys the clean copy of `scripts/clean_copy.py` (the files git
tracks, with unchecked-hash bytecode for the runtime's Python, which is the Python running
Chalice, as Chalice chooses the functions' runtime from it). What Chalice records of the
deployment (`.chalice/deployed/<stage>.json`) is carried into the copy and back, so that the
next `make deploy` updates the same resources and `chalice delete` in the project removes them.

Usage: `python -m scripts.deploy --stage dev` (`make deploy STAGE=dev`); arguments after `--`
go to `chalice deploy` (e.g. `-- --profile ops`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.clean_copy import PROJECT_DIR, clean_copy
from scripts.package import chalice_environment

DEPLOYED = Path(".chalice") / "deployed"


def deploy(stage: str, project_dir: Path = PROJECT_DIR, extra: tuple[str, ...] = ()) -> int:
    """Run `chalice deploy --stage <stage>` on a clean copy; returns Chalice's exit status."""
    with tempfile.TemporaryDirectory() as scratch:
        project = clean_copy(project_dir, Path(scratch) / "project")
        if (project_dir / DEPLOYED).is_dir():
            shutil.copytree(project_dir / DEPLOYED, project / DEPLOYED)
        chalice = Path(sys.executable).parent / "chalice"
        result = subprocess.run(
            [str(chalice), "deploy", "--stage", stage, *extra],
            cwd=project,
            env=chalice_environment(os.environ, project, default_region=None),
            check=False,
        )
        if (project / DEPLOYED).is_dir():
            shutil.copytree(project / DEPLOYED, project_dir / DEPLOYED, dirs_exist_ok=True)
    return result.returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument("extra", nargs="*", help="arguments for `chalice deploy`, after --")
    args = parser.parse_args(argv)
    raise SystemExit(deploy(args.stage, args.project_dir, tuple(args.extra)))


if __name__ == "__main__":
    main()
