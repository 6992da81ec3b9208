"""What every command shares: the project, the stage's variables, and one AWS session."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from s3once.aws.session import Aws, AwsOptions
from s3once.stage import StageError, load_config, stage_environment

F = TypeVar("F", bound=Callable[..., Any])
HANDLER = "on_object_created"
DEFAULT_SCOPE = "content"


def now_ms() -> int:
    return int(time.time() * 1000)


def processor_names() -> tuple[str, ...]:
    """The processors the project registers (imported from the project being operated on)."""
    from chalicelib.processors import REGISTRY

    return REGISTRY.names()


def default_processor() -> str:
    from chalicelib.processors import REGISTRY

    return REGISTRY.default


class ProcessorName(click.ParamType):  # type: ignore[type-arg]
    """A registered processor; the choices are read from the project when help is shown or a
    value checked, after `--project-dir` has put the project on the import path."""

    name = "processor"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(processor_names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        names = processor_names()
        if value not in names:
            self.fail(f"{value!r} is not one of: {', '.join(names)}", param, ctx)
        return str(value)


class Context:
    def __init__(
        self, project_dir: Path, stage: str, aws_options: AwsOptions, local: bool = False
    ) -> None:
        self.project_dir = project_dir
        self.stage = stage
        self.aws_options = aws_options
        self.local = local  # work on the embedded server `make run` keeps in .s3once/
        self._aws: Aws | None = None
        self._resources = contextlib.ExitStack()

    def close(self) -> None:
        """End what the command opened: the embedded server saves its state to .s3once/."""
        self._resources.close()

    def environment(self) -> dict[str, str]:
        """The stage's variables, overridden by any already set in the shell."""
        try:
            environment = stage_environment(self.project_dir, self.stage)
        except StageError as exc:
            raise click.UsageError(str(exc)) from None
        for name in environment:
            if name in os.environ:
                environment[name] = os.environ[name]
        return environment

    def setting(self, name: str, default: str | None = None) -> str:
        value = self.environment().get(name, "").strip() or default
        if not value:
            raise click.UsageError(f"{name} is not set for stage {self.stage!r}")
        return value

    @property
    def lock_table(self) -> str:
        return self.setting("LOCK_TABLE_NAME")

    @property
    def scope(self) -> str:
        return self.setting("IDEMPOTENCY_SCOPE", DEFAULT_SCOPE)

    def processor(self, chosen: str | None) -> str:
        return chosen or self.setting("PROCESSOR", default_processor())

    def function_name(self) -> str:
        """The name `chalice deploy` gives the S3 handler's function in this stage."""
        app_name = load_config(self.project_dir).get("app_name", "s3-once")
        return f"{app_name}-{self.stage}-{HANDLER}"

    def aws(self) -> Aws:
        if self._aws is None:
            if self.local:
                self._aws = self._embedded()
            else:
                self._aws = Aws(self.aws_options)
        return self._aws

    def _embedded(self) -> Aws:
        """The embedded server with the stage's state, open until the command ends."""
        from s3once.local.embedded import embedded_stage
        from s3once.local.servers import OFFLINE_CREDENTIALS

        if self.aws_options.endpoint_url or self.aws_options.profile:
            raise click.UsageError(
                "--local works on the embedded server: drop --endpoint-url and --profile"
            )
        url = self._resources.enter_context(
            embedded_stage(self.project_dir, self.stage, self.environment())
        )
        return Aws(AwsOptions(endpoint_url=url), credentials=dict(OFFLINE_CREDENTIALS))

    def handler_environment(self) -> dict[str, str]:
        """The environment of a local handler process: ours, the stage's variables, and what
        reaches the same AWS as this command's session."""
        return {**os.environ, **self.environment(), **self.aws().child_environment()}


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        if value is not None:
            obj = ctx.find_object(Context)
            if obj is not None:
                obj.aws_options = obj.aws_options.merged(AwsOptions(**{field: value}))

    return store


def aws_options(command: F) -> F:
    """`--endpoint-url`, `--profile` and `--region` after the command name, as the AWS CLI."""
    for field, option, text in reversed(AWS_OPTIONS):
        command = click.option(option, expose_value=False, callback=_store(field), help=text)(
            command
        )
    return command


AWS_OPTIONS = (
    (
        "endpoint_url",
        "--endpoint-url",
        "Send every AWS request to this URL (else AWS_ENDPOINT_URL).",
    ),
    ("profile", "--profile", "AWS profile from ~/.aws/config (else AWS_PROFILE)."),
    ("region", "--region", "AWS region (else AWS_DEFAULT_REGION or the profile's)."),
)
