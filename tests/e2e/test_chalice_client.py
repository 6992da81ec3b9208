"""The app tested the way Chalice documents it: the stage's variables applied by the test
client, an event from `client.events`, no reload and no environment set by hand."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.core.errors import ConfigurationError
from tests.conftest import unique_name
from tests.e2e.conftest import write_stage


def test_an_upload_is_processed_then_skipped_through_the_documented_test_client(
    dev_stage: dict[str, str],
) -> None:
    bucket, key = dev_stage["APP_BUCKET_NAME"], unique_name("hello") + ".txt"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"")  # eTag as generated below

    with Client(app, stage_name="dev") as client:
        event = client.events.generate_s3_event(bucket=bucket, key=key)
        first = client.lambda_.invoke("on_object_created", event)
        again = client.lambda_.invoke("on_object_created", event)

    assert first.payload == {
        "records": [{"bucket": bucket, "key": key, "outcome": "processed", "attempts": 1}]
    }
    assert again.payload["records"][0]["outcome"] == "skipped"


def test_a_bad_setting_fails_the_first_invocation_naming_the_variable(
    dev_stage: dict[str, str], tmp_path: Path
) -> None:
    project = write_stage(tmp_path, {"LEASE_SECONDS": "ten"})

    with Client(app, stage_name="dev", project_dir=str(project)) as client:
        event = client.events.generate_s3_event(bucket=dev_stage["APP_BUCKET_NAME"], key="k")
        with pytest.raises(ConfigurationError, match="LEASE_SECONDS='ten' is not a whole number"):
            client.lambda_.invoke("on_object_created", event)
