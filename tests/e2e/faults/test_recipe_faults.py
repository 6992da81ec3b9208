"""The faults that defeat the original recipe, each ending with the object processed exactly once.

The recipe: `put_item` "if not exists" before processing, `delete_item` on error, `Records[0]`
only. Crash after the lock: see test_crashed_worker.py (a real process killed with SIGKILL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload
from tests.conftest import unique_name
from tests.e2e.conftest import AppUnderTest

MakeApp = Callable[..., AppUnderTest]


def outcomes(payload: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(r["bucket"], r["key"], r["outcome"], r["attempts"]) for r in payload["records"]]


def completed(app: AppUnderTest) -> list[tuple[str, str, int]]:
    return sorted(
        (item["bucket"]["S"], item["key"]["S"], int(item["attempts"]["N"]))
        for item in app.lock_items()
        if item["status"]["S"] == "COMPLETED"
    )


def test_the_same_key_in_another_bucket_is_its_own_object(make_app: MakeApp) -> None:
    app = make_app()
    other_bucket = unique_name("uploads")
    app.s3.create_bucket(Bucket=other_bucket)
    here = put_upload(app.s3, app.bucket, "report.csv", b"a,b\n", "text/csv")
    there = put_upload(app.s3, other_bucket, "report.csv", b"a,b\n", "text/csv")

    assert outcomes(app.invoke(created_event(here))) == [(app.bucket, "report.csv", "processed", 1)]
    assert outcomes(app.invoke(created_event(there))) == [
        (other_bucket, "report.csv", "processed", 1)
    ]
    assert completed(app) == sorted(
        [(app.bucket, "report.csv", 1), (other_bucket, "report.csv", 1)]
    )


def test_changed_content_under_the_same_key_is_processed_and_old_redeliveries_skipped(
    make_app: MakeApp,
) -> None:
    app = make_app()
    first = put_upload(app.s3, app.bucket, "data.json", b"{}", "application/json")
    app.invoke(created_event(first))
    second = put_upload(app.s3, app.bucket, "data.json", b'{"a": 1}', "application/json")

    assert outcomes(app.invoke(created_event(second))) == [
        (app.bucket, "data.json", "processed", 1)
    ]
    assert outcomes(app.invoke(created_event(first))) == [(app.bucket, "data.json", "skipped", 1)]
    results = sorted(int(item["result"]["M"]["size"]["N"]) for item in app.lock_items())
    assert results == [2, 8]


def test_identical_content_uploaded_again_is_skipped(make_app: MakeApp) -> None:
    app = make_app()
    app.invoke(created_event(put_upload(app.s3, app.bucket, "a.txt", b"same", "text/plain")))
    again = put_upload(app.s3, app.bucket, "a.txt", b"same", "text/plain")
    assert outcomes(app.invoke(created_event(again))) == [(app.bucket, "a.txt", "skipped", 1)]


def test_object_scope_keeps_the_recipes_first_upload_wins_semantics(make_app: MakeApp) -> None:
    app = make_app(IDEMPOTENCY_SCOPE="object")
    app.invoke(created_event(put_upload(app.s3, app.bucket, "a.txt", b"v1", "text/plain")))
    changed = put_upload(app.s3, app.bucket, "a.txt", b"v2", "text/plain")
    assert outcomes(app.invoke(created_event(changed))) == [(app.bucket, "a.txt", "skipped", 1)]


def test_every_record_of_a_multi_record_event_is_processed(make_app: MakeApp) -> None:
    app = make_app()
    uploads = [
        put_upload(app.s3, app.bucket, f"batch/{i}.txt", b"x" * i, "text/plain") for i in range(3)
    ]
    payload = app.invoke(created_event(*uploads))
    assert [o[2] for o in outcomes(payload)] == ["processed"] * 3
    assert outcomes(app.invoke(created_event(*uploads))) == [
        (app.bucket, f"batch/{i}.txt", "skipped", 1) for i in range(3)
    ]


def test_an_object_deleted_before_processing_fails_permanently_without_a_retry(
    make_app: MakeApp,
) -> None:
    app = make_app()
    gone = put_upload(app.s3, app.bucket, "gone.txt", b"x", "text/plain")
    kept = put_upload(app.s3, app.bucket, "kept.txt", b"y", "text/plain")
    app.s3.delete_object(Bucket=app.bucket, Key="gone.txt")
    payload = app.invoke(created_event(gone, kept))
    assert [o[2] for o in outcomes(payload)] == ["failed_permanently", "processed"]
    [failed] = [item for item in app.lock_items() if item["status"]["S"] == "FAILED"]
    assert "no longer exists" in failed["last_error"]["S"]


def test_an_event_for_an_overwritten_upload_does_not_process_the_newer_content(
    make_app: MakeApp,
) -> None:
    app = make_app()
    old = put_upload(app.s3, app.bucket, "a.txt", b"old", "text/plain")
    new = put_upload(app.s3, app.bucket, "a.txt", b"newer", "text/plain")
    payload = app.invoke(created_event(old, new))
    assert [o[2] for o in outcomes(payload)] == ["failed_permanently", "processed"]
    [done] = [item for item in app.lock_items() if item["status"]["S"] == "COMPLETED"]
    assert done["etag"]["S"] == new.etag


@pytest.mark.parametrize(
    "key",
    [
        "my photo.jpg",
        "a+b=c.txt",
        "100% done.txt",
        "tag#1/x#2.csv",
        "café/menü ü.html",
        "日本語/ファイル.txt",
    ],
)
def test_keys_with_special_characters_are_processed_exactly_once(
    make_app: MakeApp, key: str
) -> None:
    app = make_app()
    upload = put_upload(app.s3, app.bucket, key, b"content", "text/plain")
    assert outcomes(app.invoke(created_event(upload))) == [(app.bucket, key, "processed", 1)]
    assert outcomes(app.invoke(created_event(upload))) == [(app.bucket, key, "skipped", 1)]
    assert completed(app) == [(app.bucket, key, 1)]


def test_removed_and_test_events_change_nothing(make_app: MakeApp) -> None:
    app = make_app()
    removed = created_event(put_upload(app.s3, app.bucket, "x.txt", b"x", "text/plain"))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert outcomes(app.invoke(removed)) == [(app.bucket, "x.txt", "ignored", 0)]
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": app.bucket}
    assert outcomes(app.invoke(test_event)) == [(app.bucket, "", "ignored", 0)]
    assert app.lock_items() == []


def test_a_malformed_event_raises_a_clear_error(make_app: MakeApp) -> None:
    from chalicelib.core.errors import InvalidEventError

    app = make_app()
    with pytest.raises(InvalidEventError, match=r"Records\[0\]\.s3 is missing"):
        app.invoke({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]})


def test_a_busy_record_fails_the_invocation_after_processing_the_others(make_app: MakeApp) -> None:
    app = make_app()
    held = put_upload(app.s3, app.bucket, "held.txt", b"h", "text/plain")
    free = put_upload(app.s3, app.bucket, "free.txt", b"f", "text/plain")
    # Another invocation holds "held.txt" with a live lease: its lock item says so.
    from chalicelib.core.keys import idempotency_key
    from chalicelib.core.model import IdempotencyScope, ObjectRef

    pk = idempotency_key(
        ObjectRef(app.bucket, "held.txt", etag=held.etag), IdempotencyScope.CONTENT, "content-type"
    )
    app.dynamodb.put_item(
        TableName=app.lock_table,
        Item={
            "pk": {"S": pk},
            "status": {"S": "IN_PROGRESS"},
            "attempts": {"N": "1"},
            "owner": {"S": "other-invocation"},
            "lease_expires_at": {"N": str(2**50)},
        },
    )
    with pytest.raises(IncompleteBatchError, match="held by another invocation") as raised:
        app.invoke(created_event(held, free))
    assert [(r["key"], r["outcome"]) for r in raised.value.records] == [
        ("held.txt", "busy"),
        ("free.txt", "processed"),
    ]
