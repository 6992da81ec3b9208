"""The stage's deployment as `make package` builds it: the zip, and the functions Terraform
would create from `chalice.tf.json` (handler, runtime, timeout, memory, environment)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_DIR

INFRA_TERRAFORM = PROJECT_DIR / "infra" / "terraform" / "s3-once.tf.json"
_VARIABLE = re.compile(r"\$\{var\.(\w+)\}")
_RULE = re.compile(r"\$\{aws_cloudwatch_event_rule\.([\w-]+)\.name\}")
_FUNCTION = re.compile(r"\$\{aws_lambda_function\.(\w+)\.arn\}")


@dataclass(frozen=True)
class FunctionConfig:
    """One `aws_lambda_function` of the generated Terraform."""

    resource: str  # its name in the Terraform module, e.g. on_object_created
    name: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    variables: dict[str, str] = field(default_factory=dict)

    def with_settings(self, timeout_s: float | None = None, **variables: str) -> FunctionConfig:
        """The same function deployed with other settings (a shorter timeout, a stage's
        variable changed or added)."""
        return replace(
            self,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            variables={**self.variables, **variables},
        )


@dataclass(frozen=True)
class EventSourceMapping:
    """One `aws_lambda_event_source_mapping`: which function reads which queue, how many."""

    function: str  # the resource name of the function
    queue_name: str
    batch_size: int


def build_package(stage: str, out: Path, project_dir: Path = PROJECT_DIR) -> Path:
    """What `make package STAGE=<stage>` runs (on `project_dir`), into `out`: returns the
    Terraform directory."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "scripts.package", "--stage", stage, "--out", str(out)]
    subprocess.run(
        [*command, "--project-dir", str(project_dir)],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def extract_read_only(archive: Path, task_root: Path) -> Path:
    """Unzip the package as Lambda does into /var/task, then take every write bit away: the
    function runs from a tree it cannot change (no `__pycache__` can be written there)."""
    with zipfile.ZipFile(archive) as package:
        package.extractall(task_root)
    for path in [*task_root.rglob("*"), task_root]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return task_root


def tree_state(tree: Path) -> dict[str, tuple[int, int]]:
    """Every path under `tree` with its size and modification time. Run as root (as CI is),
    the missing write bits stop nothing: comparing this before and after is what shows that
    the function wrote nothing there."""
    return {
        path.relative_to(tree).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in tree.rglob("*")
    }


def make_writable(tree: Path) -> None:
    """Give the write bits back, so that pytest can remove its temporary directory."""
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def function_configs(terraform_dir: Path) -> dict[str, FunctionConfig]:
    """The functions of `chalice.tf.json`, by resource name."""
    resources = _resources(terraform_dir)
    return {
        name: FunctionConfig(
            resource=name,
            name=function["function_name"],
            handler=function["handler"],
            runtime=function["runtime"],
            timeout_s=float(function["timeout"]),
            memory_mb=int(function["memory_size"]),
            variables=dict(function.get("environment", {}).get("variables", {})),
        )
        for name, function in resources["aws_lambda_function"].items()
    }


def event_source_mappings(terraform_dir: Path) -> list[EventSourceMapping]:
    """The SQS event source mappings of `chalice.tf.json` (the queue is the ARN's last part)."""
    mappings = _resources(terraform_dir).get("aws_lambda_event_source_mapping", {})
    return [
        EventSourceMapping(
            function=mapping["function_name"]
            .removeprefix("${aws_lambda_function.")
            .split(".", 1)[0],
            queue_name=mapping["event_source_arn"].rsplit(":", 1)[1],
            batch_size=int(mapping["batch_size"]),
        )
        for mapping in mappings.values()
    ]


@dataclass(frozen=True)
class Schedule:
    """An `aws_cloudwatch_event_rule` with a schedule, and the function its target invokes."""

    function: str  # the resource name of the function
    expression: str  # e.g. rate(15 minutes)


def schedules(terraform_dir: Path) -> list[Schedule]:
    """The scheduled rules of `chalice.tf.json` (rules with an event pattern are left out)."""
    resources = _resources(terraform_dir)
    rules = resources.get("aws_cloudwatch_event_rule", {})
    found = []
    for target in resources.get("aws_cloudwatch_event_target", {}).values():
        rule, function = _RULE.fullmatch(target["rule"]), _FUNCTION.fullmatch(target["arn"])
        assert rule and function, f"an event target of another shape: {target}"
        if "schedule_expression" in rules[rule[1]]:
            found.append(Schedule(function[1], rules[rule[1]]["schedule_expression"]))
    return found


@dataclass(frozen=True)
class EventInvokeConfig:
    """What infra/terraform sets for a function's asynchronous invocations."""

    maximum_retry_attempts: int
    maximum_event_age_s: float
    on_failure: str  # the destination, as Terraform names it


def event_invoke_config(resource: str, template: Path = INFRA_TERRAFORM) -> EventInvokeConfig:
    """The `aws_lambda_function_event_invoke_config` of `resource`, its variables at their
    defaults (what a `terraform apply` without -var deploys)."""
    document = json.loads(template.read_text(encoding="utf-8"))
    config = document["resource"]["aws_lambda_function_event_invoke_config"][resource]

    def value(expression: object) -> Any:
        match = _VARIABLE.fullmatch(str(expression))
        return document["variable"][match[1]]["default"] if match else expression

    return EventInvokeConfig(
        maximum_retry_attempts=int(value(config["maximum_retry_attempts"])),
        maximum_event_age_s=float(value(config["maximum_event_age_in_seconds"])),
        on_failure=config["destination_config"]["on_failure"]["destination"],
    )


def _resources(terraform_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    document = json.loads((terraform_dir / "chalice.tf.json").read_text(encoding="utf-8"))
    resources: dict[str, dict[str, dict[str, Any]]] = document["resource"]
    return resources
