"""Read a stage's settings from `.chalice/config.json`, as Chalice itself would apply them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CONFIG_PATH = Path(".chalice") / "config.json"


class StageError(Exception):
    """The stage or its configuration file cannot be used."""


def load_config(project_dir: Path) -> dict[str, Any]:
    path = project_dir / CONFIG_PATH
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StageError(f"{path} does not exist: run s3once from the project directory") from None
    except ValueError as exc:
        raise StageError(f"{path} is not valid JSON: {exc}") from None
    return config


def stage_names(project_dir: Path) -> list[str]:
    return sorted(load_config(project_dir).get("stages", {}))


def stage_environment(project_dir: Path, stage: str) -> dict[str, str]:
    """The Lambda environment of `stage`: the top-level variables overlaid by the stage's own."""
    config = load_config(project_dir)
    stages = config.get("stages", {})
    if stage not in stages:
        known = ", ".join(sorted(stages)) or "none"
        raise StageError(f"stage {stage!r} is not in {CONFIG_PATH} (stages: {known})")
    environment = dict(config.get("environment_variables", {}))
    environment.update(stages[stage].get("environment_variables", {}))
    return {str(name): str(value) for name, value in environment.items()}


def use_project_code(project_dir: Path) -> None:
    """Import `app` and `chalicelib` from the project being operated on, as Chalice does."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
