"""End-to-end scenarios the policy proof replays on top of tests/e2e, for every registered
processor (a processor added to the registry is replayed here with no change to this file).

Each one reaches an S3 or DynamoDB call the smoke scenarios may not: reading by version on a
versioned bucket, a key deleted before its event arrives, an object overwritten after it, and
an access log spanning more hours than one transaction holds. Without them the proof could not
justify `s3:GetObjectVersion` or `s3:ListBucket`. (`dynamodb:GetItem` is justified by
tests/e2e/processors/test_access_log_takeover.py, a takeover of a commit cut short.)
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.processors import REGISTRY
from s3once.aws.tables import create_required_tables
from s3once.s3_events import Upload, created_event, put_upload
from tests.access_log_data import log_bytes, requests
from tests.conftest import unique_name
from tests.route_events import batch_of, eventbridge_created

PROCESSORS = REGISTRY.names()
SHORT_LOG = log_bytes(requests(40, hours=3, seed=1), "combined")
# More distinct hours than the 99 counters one transaction carries beside the lock record.
LONG_LOG = log_bytes(requests(2000, hours=160, seed=2), "combined")


def app_running(make_app: Any, processor: str) -> Any:
    """The app running `processor`, each table and bucket its plugin declares created anew."""
    plugin = REGISTRY.plugin(processor)
    tables = {spec.setting: unique_name("table") for spec in plugin.tables}
    buckets = {
        action.setting: unique_name("output")
        for action in plugin.actions
        if action.action.startswith("s3:") and action.setting not in tables
    }
    app = make_app(PROCESSOR=processor, **tables, **buckets)
    create_required_tables(app.dynamodb, app.stage)
    for bucket in buckets.values():
        app.s3.create_bucket(Bucket=bucket)
    return app


def upload(app: Any, key: str, body: bytes = SHORT_LOG) -> Upload:
    return put_upload(app.s3, app.bucket, key, body, "text/plain")


@pytest.mark.parametrize("processor", PROCESSORS)
def test_an_upload_to_a_versioned_bucket_is_read_by_its_version(
    make_app: Any, processor: str
) -> None:
    app = app_running(make_app, processor)
    app.s3.put_bucket_versioning(Bucket=app.bucket, VersioningConfiguration={"Status": "Enabled"})
    uploaded = upload(app, "logs/v.log")
    assert uploaded.version_id

    summary = app.invoke(created_event(uploaded))

    assert summary["records"][0]["outcome"] == "processed"
    (item,) = app.lock_items()
    assert item["version_id"]["S"] == uploaded.version_id


@pytest.mark.parametrize("processor", PROCESSORS)
def test_an_object_deleted_before_its_event_is_handled_fails_without_retry(
    make_app: Any, processor: str
) -> None:
    app = app_running(make_app, processor)
    uploaded = upload(app, "gone.log")
    app.s3.delete_object(Bucket=app.bucket, Key=uploaded.key)

    summary = app.invoke(created_event(uploaded))

    assert summary["records"][0]["outcome"] == "failed_permanently"


@pytest.mark.parametrize("processor", PROCESSORS)
def test_an_object_overwritten_after_its_event_is_not_processed_as_the_old_upload(
    make_app: Any, processor: str
) -> None:
    app = app_running(make_app, processor)
    first = upload(app, "same.log")
    upload(app, "same.log", SHORT_LOG + SHORT_LOG)

    summary = app.invoke(created_event(first))

    assert summary["records"][0]["outcome"] == "failed_permanently"


def test_an_access_log_spanning_many_hours_is_committed_in_fenced_steps(make_app: Any) -> None:
    app = app_running(make_app, "access-log")
    uploaded = upload(app, "long.log", LONG_LOG)

    first = app.invoke(created_event(uploaded))
    again = app.invoke(created_event(uploaded))

    assert first["records"][0]["outcome"] == "processed"
    assert again["records"][0]["outcome"] == "skipped"


@pytest.mark.parametrize("processor", PROCESSORS)
def test_every_route_reaches_the_same_record_under_the_stage_policy(
    make_app: Any, processor: str
) -> None:
    """The routes' own calls (HeadObject of a Batch Operations task, by version or not) under
    each processor, so the proof covers every stage's routes, not only content-type's."""
    app = app_running(make_app, processor)
    app.s3.put_bucket_versioning(Bucket=app.bucket, VersioningConfiguration={"Status": "Enabled"})
    by_version = upload(app, "routes/by-version.log")
    current = upload(app, "routes/current.log")
    batch = "on_batch_operations_task"

    first = app.client.lambda_.invoke(batch, batch_of(by_version, by_version=True)).payload
    second = app.client.lambda_.invoke(batch, batch_of(current, schema="2.0")).payload
    bridged = app.client.lambda_.invoke(
        "on_eventbridge_object_created", eventbridge_created(by_version)
    ).payload

    assert [r["resultString"] for r in first["results"] + second["results"]] == [
        "processed",
        "processed",
    ]
    assert bridged["records"][0]["outcome"] == "skipped"
