"""EventBridge events and S3 Batch Operations tasks end to end: moto's S3, DynamoDB Local."""

from __future__ import annotations

from typing import Any

from s3once.s3_events import created_event, put_upload
from tests.e2e.conftest import AppUnderTest
from tests.e2e.routes.routes_app import BATCH_FUNCTION, EVENTBRIDGE_FUNCTION, invoke
from tests.route_events import batch_of, eventbridge_created


def result(response: dict[str, Any]) -> tuple[str, str]:
    (only,) = response["results"]
    return only["resultCode"], only["resultString"]


def test_an_eventbridge_event_with_a_plus_in_its_key_reaches_the_notifications_record(
    make_app: Any,
) -> None:
    app: AppUnderTest = make_app()
    upload = put_upload(app.s3, app.bucket, "reports/a+b c.csv", b"x,y\n", "text/csv")

    by_eventbridge = invoke(app, EVENTBRIDGE_FUNCTION, eventbridge_created(upload))
    by_notification = app.invoke(created_event(upload))

    assert by_eventbridge["records"][0]["outcome"] == "processed"
    assert by_notification["records"][0]["outcome"] == "skipped"
    (item,) = app.lock_items()
    assert item["key"]["S"] == "reports/a+b c.csv"


def test_batch_operations_schema_2_processes_the_current_object_then_skips_it(
    make_app: Any,
) -> None:
    app: AppUnderTest = make_app()
    upload = put_upload(app.s3, app.bucket, "backfill/q1 #2.csv", b"1,2\n", "text/csv")

    first = invoke(app, BATCH_FUNCTION, batch_of(upload, schema="2.0"))
    again = invoke(app, BATCH_FUNCTION, batch_of(upload, schema="1.0"))

    assert result(first) == ("Succeeded", "processed")
    assert result(again) == ("Succeeded", "skipped")
    (item,) = app.lock_items()
    assert item["etag"]["S"] == upload.etag


def test_batch_operations_reads_the_manifests_version_on_a_versioned_bucket(
    make_app: Any,
) -> None:
    app: AppUnderTest = make_app(IDEMPOTENCY_SCOPE="version")
    app.s3.put_bucket_versioning(Bucket=app.bucket, VersioningConfiguration={"Status": "Enabled"})
    old = put_upload(app.s3, app.bucket, "v.txt", b"old", "text/plain")
    put_upload(app.s3, app.bucket, "v.txt", b"newer", "text/plain")

    response = invoke(app, BATCH_FUNCTION, batch_of(old, by_version=True))
    by_notification = app.invoke(created_event(old))

    assert result(response) == ("Succeeded", "processed")
    assert by_notification["records"][0]["outcome"] == "skipped"
    (item,) = app.lock_items()
    assert (item["version_id"]["S"], item["result"]["M"]["size"]["N"]) == (old.version_id, "3")


def test_a_task_for_a_deleted_object_fails_permanently(make_app: Any) -> None:
    app: AppUnderTest = make_app()
    upload = put_upload(app.s3, app.bucket, "gone.txt", b"x", "text/plain")
    app.s3.delete_object(Bucket=app.bucket, Key=upload.key)

    response = invoke(app, BATCH_FUNCTION, batch_of(upload))

    code, text = result(response)
    assert (code, text.split(":")[0]) == ("PermanentFailure", "ObjectNotFoundError")
    assert app.lock_items() == []
