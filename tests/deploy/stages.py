"""The deployment stages of `.chalice/config.json`: names, environment, policy, derived names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3once.stage import load_config, stage_environment, stage_names
from tests.deploy.iam import ACCOUNT, REGION, Permission
from tests.e2e.routes.routes_app import app_as_deployed

PROJECT_DIR = Path(__file__).resolve().parents[2]
HANDLER = "on_object_created"
LOG_STREAM = "2026/01/01/[$LATEST]0123456789abcdef"


@dataclass(frozen=True)
class Stage:
    name: str
    app_name: str
    environment: dict[str, str]
    policy_file: Path

    @property
    def function_name(self) -> str:
        return f"{self.app_name}-{self.name}-{HANDLER}"

    @property
    def failure_queue_name(self) -> str:
        return f"{self.app_name}-failed-{self.name}"

    def policy_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.policy_file.read_text(encoding="utf-8"))
        return document

    @property
    def functions(self) -> tuple[str, ...]:
        """Every function the stage deploys (they share the stage's role)."""
        return deployed_handlers(tuple(sorted(self.environment.items())))

    def platform_permissions(self) -> list[Permission]:
        """What Lambda itself does with the functions' role: write each function's logs, send
        events that failed every retry to the on-failure destination, and, on a stage with
        the SQS route, poll and delete the queue's messages (the event source mapping)."""
        runtime = "the Lambda runtime"
        permissions = []
        for handler in self.functions:
            name = f"{self.app_name}-{self.name}-{handler}"
            group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"
            permissions += [
                Permission("logs:CreateLogGroup", group, runtime),
                Permission("logs:CreateLogGroup", group + ":*", runtime),
                Permission("logs:CreateLogStream", f"{group}:log-stream:{LOG_STREAM}", runtime),
                Permission("logs:PutLogEvents", f"{group}:log-stream:{LOG_STREAM}", runtime),
            ]
        permissions.append(
            Permission(
                "sqs:SendMessage",
                f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.failure_queue_name}",
                "Lambda's on-failure destination for asynchronous invocations",
            )
        )
        queue = self.environment.get("SQS_QUEUE_NAME")
        if queue:
            mapping = "the SQS event source mapping of on_sqs_message"
            permissions += [
                Permission(action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}", mapping)
                for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
            ]
        return permissions


def deployed_handlers(environment: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The handlers app.py registers under a stage's environment, as `chalice deploy` imports
    it: each becomes a function named `<app>-<stage>-<handler>`."""
    return tuple(sorted(app_as_deployed(dict(environment)).handler_map))


def load_stages(project_dir: Path = PROJECT_DIR) -> list[Stage]:
    config = load_config(project_dir)
    stages = []
    for name in stage_names(project_dir):
        settings = config["stages"][name]
        policy_name = settings.get("iam_policy_file", config.get("iam_policy_file", ""))
        stages.append(
            Stage(
                name=name,
                app_name=config["app_name"],
                environment=stage_environment(project_dir, name),
                policy_file=project_dir / ".chalice" / policy_name,
            )
        )
    return stages
