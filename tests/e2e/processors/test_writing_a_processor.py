"""docs/processors.md's "Writing a processor", followed literally in a copy of the project: the
new processor joins through the registry alone, its Chalice-style test passes, `s3once run` runs
it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

COPIED = ("app.py", "chalicelib", ".chalice", "samples", "s3once", "tests", "pyproject.toml")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
PATH = re.compile(r"`([\w.\-]+(?:/[\w.\-]+)+)`")


@dataclass(frozen=True)
class Step:
    instruction: str  # the text before the block
    language: str
    body: str

    @property
    def path(self) -> str:
        paths = PATH.findall(self.instruction)
        assert paths, f"no file named before the {self.language} block: {self.instruction!r}"
        return str(paths[-1])


GUIDE = PROJECT_DIR / "docs" / "processors.md"


def guide_steps() -> list[Step]:
    guide = GUIDE.read_text(encoding="utf-8")
    section = guide.split("\n## Writing a processor\n", 1)[1].split("\n## ", 1)[0]
    steps, previous_end = [], 0
    for block in FENCE.finditer(section):
        steps.append(Step(section[previous_end : block.start()], block[1], block[2]))
        previous_end = block.end()
    return steps


def copy_project(target: Path) -> Path:
    target.mkdir()
    for name in COPIED:
        source = PROJECT_DIR / name
        if source.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", ".pytest_cache")
            shutil.copytree(source, target / name, ignore=ignored)
        else:
            shutil.copy(source, target / name)
    (target / "node_modules").symlink_to(PROJECT_DIR / "node_modules")  # DynamoDB Local
    return target


def follow(step: Step, project: Path) -> list[list[str]]:
    """Do what the step says in `project`; return the commands it asks to run."""
    if step.language == "sh":
        return [as_command(line) for line in step.body.splitlines() if line.strip()]
    target = project / step.path
    if step.language == "json":
        config = json.loads(target.read_text(encoding="utf-8"))
        assert "`dev` stage" in step.instruction
        config["stages"]["dev"]["environment_variables"].update(json.loads("{" + step.body + "}"))
        target.write_text(json.dumps(config, indent=2), encoding="utf-8")
    elif "add this line" in step.instruction:
        with target.open("a", encoding="utf-8") as module:
            module.write(step.body)
    else:
        assert not target.exists(), f"the guide would overwrite {step.path}"
        target.write_text(step.body, encoding="utf-8")
    return []


def as_command(line: str) -> list[str]:
    """`.venv/bin/python ...` and `.venv/bin/s3once ...` with the interpreter running the tests."""
    program, *args = shlex.split(line)
    if program == ".venv/bin/python":
        return [sys.executable, *args]
    if program == ".venv/bin/s3once":
        return [sys.executable, "-m", "s3once", *args]
    raise AssertionError(f"the guide asks to run {program!r}, which this test does not know")


@pytest.mark.slow
def test_the_guide_adds_a_working_processor_through_the_registry_only(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path / "project")
    steps = guide_steps()
    assert [step.language for step in steps] == ["python", "python", "json", "python", "sh"]

    commands = [command for step in steps for command in follow(step, project)]

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["PYTHONPATH"] = str(project)
    results = [
        subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)
        for command in commands
    ]
    tested, ran = results
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "1 passed" in tested.stdout
    assert ran.returncode == 0, ran.stderr
    assert "processor line-count" in ran.stdout
    assert re.search(r"first delivery\s+\S.*\s+processed\s+1", ran.stdout), ran.stdout
    assert "lines=" in ran.stdout  # the lock table shows the processor's result
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "chalicelib", "tests", ".chalice"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert "line_count" not in changed.stdout  # only the copy was touched
