"""The embedded local AWS: a moto server on loopback holding a stage's buckets and tables as the
last run on it left them (kept in `.s3once/`). `make run` works on it, and `s3once --local`
opens it again for every other command, so a newcomer can operate what `make run` did without
an AWS account or a server started by hand.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from s3once.aws.tables import create_required_tables, required_tables
from s3once.local.servers import OFFLINE_CREDENTIALS, moto_server
from s3once.local.state import (
    bucket_folder,
    restore_buckets,
    restore_tables,
    save_buckets,
    save_tables,
    state_file,
)


def stage_buckets(environment: dict[str, str]) -> list[str]:
    """The stage's upload bucket and every bucket its processor writes to."""
    from chalicelib.processors import REGISTRY  # the project's, once its directory is on the path

    plugin = REGISTRY.plugin(environment.get("PROCESSOR") or None)
    outputs = {
        environment[action.setting]
        for action in plugin.actions
        if action.action.startswith("s3:Put") and environment.get(action.setting)
    }
    return [environment["APP_BUCKET_NAME"], *sorted(outputs - {environment["APP_BUCKET_NAME"]})]


def ensure_bucket(s3: Any, bucket: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)


@contextlib.contextmanager
def embedded_stage(project_dir: Path, stage: str, environment: dict[str, str]) -> Iterator[str]:
    """A moto server with the stage's buckets and tables, restored from `.s3once/`; yields its
    URL and saves what is there when the block ends, whether it ended well or not."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    credentials = {
        "aws_access_key_id": OFFLINE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": OFFLINE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": OFFLINE_CREDENTIALS["AWS_SESSION_TOKEN"],
        "region_name": OFFLINE_CREDENTIALS["AWS_DEFAULT_REGION"],
    }
    with moto_server() as url:
        s3 = boto3.client("s3", endpoint_url=url, **credentials)  # type: ignore[call-overload]
        dynamodb = boto3.client("dynamodb", endpoint_url=url, **credentials)  # type: ignore[call-overload]
        buckets = stage_buckets(environment)
        for bucket in buckets:
            ensure_bucket(s3, bucket)
        create_required_tables(dynamodb, environment)
        restore_tables(dynamodb, state_file(project_dir, stage))
        restore_buckets(s3, bucket_folder(project_dir, stage))
        try:
            yield url
        finally:
            save_tables(dynamodb, required_tables(environment), state_file(project_dir, stage))
            save_buckets(s3, buckets, bucket_folder(project_dir, stage))
