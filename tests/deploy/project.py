"""A throw-away copy of the project to run `chalice` in, so nothing lands in the real .chalice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.deploy.stages import PROJECT_DIR

CHALICE = Path(sys.executable).parent / "chalice"
# What Chalice reads to build and deploy the app; anything else would only hide a gap.
PROJECT_FILES = ("app.py", "chalicelib", "requirements.txt", ".chalice/config.json")
_GENERATED = shutil.ignore_patterns("__pycache__", "*.pyc")


def copy_project(destination: Path) -> Path:
    for name in PROJECT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=_GENERATED)
        else:
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for policy in (PROJECT_DIR / ".chalice").glob("policy-*.json"):
        shutil.copy2(policy, destination / ".chalice" / policy.name)
    return destination


def run_chalice(
    project: Path, *arguments: str, environment: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the venv's `chalice` in `project`; the app's settings come from the stage alone."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("APP_BUCKET_NAME", "LOCK_TABLE_NAME", "PROCESSOR")
    }
    env.update(environment or {})
    return subprocess.run(
        [str(CHALICE), *arguments],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
