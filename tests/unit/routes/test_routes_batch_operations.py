"""S3 Batch Operations: schema 1.0 and 2.0, one result per task in the documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.errors import InvalidEventError, PermanentProcessingError
from chalicelib.core.model import LockStatus, ObjectRef
from s3once.aws.batch_jobs import manifest_csv
from s3once.s3_events import Upload
from tests.route_events import batch_invocation, batch_task, fixture
from tests.unit.routes.routes_world import INVOCATION, RouteWorld, client_error

V1 = "powertools__s3BatchOperationEventSchemaV1.json"
V2 = "powertools__s3BatchOperationEventSchemaV2.json"
DATASET = ObjectRef(
    "powertools-dataset", "prefix/dataset/dataset.20231222.json.gz", etag="e" * 32, size=10
)


def results(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["resultCode"], r["resultString"].split(":")[0]) for r in response["results"]]


def world_with(*objects: ObjectRef) -> RouteWorld:
    world = RouteWorld()
    for obj in objects:
        world.locator.add(obj)
    return world


@pytest.mark.parametrize(("name", "version"), [(V1, "1"), (V2, None)], ids=["1.0", "2.0"])
def test_the_real_invocations_are_answered_in_the_documented_shape(
    name: str, version: str | None
) -> None:
    world = world_with(DATASET)
    event = fixture(name)

    response = world.routes().batch_operations(event, INVOCATION)

    reference = fixture("awslambdago__s3-batch-job-event-response.json")
    assert set(response) == set(reference)
    assert {frozenset(r) for r in response["results"]} == {frozenset(reference["results"][0])}
    assert response["invocationSchemaVersion"] == event["invocationSchemaVersion"]
    assert response["invocationId"] == event["invocationId"]
    assert response["treatMissingKeysAs"] == "PermanentFailure"
    assert response["results"] == [
        {"taskId": "dGFza2lkZ29lc2hlcmUK", "resultCode": "Succeeded", "resultString": "processed"}
    ]
    assert world.locator.calls == [("powertools-dataset", DATASET.key, version)]
    assert world.processor.processed == [DATASET]


def test_a_second_job_over_the_same_object_skips_it() -> None:
    world = world_with(DATASET)

    world.routes().batch_operations(fixture(V1), INVOCATION)
    again = world.routes().batch_operations(fixture(V2), INVOCATION)

    assert results(again) == [("Succeeded", "skipped")]
    assert len(world.processor.processed) == 1


def test_each_task_gets_its_own_result() -> None:
    busy = ObjectRef("uploads", "busy.txt", etag="b" * 32)
    broken = ObjectRef("uploads", "broken.txt", etag="c" * 32)
    hopeless = ObjectRef("uploads", "hopeless.txt", etag="d" * 32)
    fine = ObjectRef("uploads", "fine.txt", etag="f" * 32)

    def behave(obj: ObjectRef) -> None:
        if obj.key == "broken.txt":
            raise RuntimeError("processor broke")
        if obj.key == "hopeless.txt":
            raise PermanentProcessingError("not processable")

    world = world_with(busy, broken, hopeless, fine)
    world.processor.behaviour = behave
    world.hold(busy)
    keys = ["busy.txt", "broken.txt", "hopeless.txt", "gone.txt", "fine.txt"]

    response = world.routes().batch_operations(
        batch_invocation(*(batch_task("uploads", key) for key in keys)), INVOCATION
    )

    assert results(response) == [
        ("TemporaryFailure", "busy"),
        ("TemporaryFailure", "failed"),
        ("PermanentFailure", "failed_permanently"),
        ("PermanentFailure", "ObjectNotFoundError"),
        ("Succeeded", "processed"),
    ]
    assert "processor broke" in response["results"][1]["resultString"]
    assert world.status(broken) is LockStatus.FAILED
    assert world.status(fine) is LockStatus.COMPLETED


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (client_error("SlowDown", 503, "HeadObject"), "TemporaryFailure"),
        (client_error("InternalError", 500, "HeadObject"), "TemporaryFailure"),
        (client_error("AccessDenied", 403, "HeadObject"), "PermanentFailure"),
    ],
    ids=["slow-down", "internal-error", "access-denied"],
)
def test_a_failed_head_object_is_temporary_only_when_aws_says_so(
    error: Exception, code: str
) -> None:
    world = RouteWorld()
    world.locator.error = error

    response = world.routes().batch_operations(
        batch_invocation(batch_task("uploads", "k")), INVOCATION
    )

    assert response["results"][0]["resultCode"] == code
    assert response["results"][0]["resultString"].startswith("head_object: ")
    assert world.processor.processed == []


def test_a_throttled_lock_store_is_a_temporary_failure() -> None:
    world = world_with(ObjectRef("uploads", "t.txt", etag="e" * 32))
    world.locks.errors["t.txt"] = client_error("ThrottlingException")

    response = world.routes().batch_operations(
        batch_invocation(batch_task("uploads", "t.txt")), INVOCATION
    )

    assert results(response) == [("TemporaryFailure", "retry")]
    assert "ThrottlingException" in response["results"][0]["resultString"]


@pytest.mark.parametrize(
    ("encoded", "key"),
    [("q1%20%232.csv", "q1 #2.csv"), ("a+b.txt", "a+b.txt"), ("%C3%BC.txt", "ü.txt")],
)
def test_keys_are_percent_decoded_and_a_plus_stays_a_plus(encoded: str, key: str) -> None:
    world = world_with(ObjectRef("uploads", key, etag="e" * 32))
    task = batch_task("uploads", "x")
    task["s3Key"] = encoded

    response = world.routes().batch_operations(batch_invocation(task), INVOCATION)

    assert world.locator.calls == [("uploads", key, None)]
    assert results(response) == [("Succeeded", "processed")]


@pytest.mark.parametrize("version", [None, "null", ""])
def test_no_version_or_the_null_version_reads_the_current_object(version: str | None) -> None:
    world = world_with(ObjectRef("uploads", "k", etag="e" * 32))

    world.routes().batch_operations(
        batch_invocation(batch_task("uploads", "k", version, schema="2.0"), schema="2.0"),
        INVOCATION,
    )

    assert world.locator.calls == [("uploads", "k", None)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.update(s3BucketArn="arn:aws:s3:::Bad_Bucket"), "s3BucketArn"),
        (lambda t: t.pop("s3Key"), "s3Key is missing"),
        (lambda t: t.update(s3Key="%FF"), "URL-decode"),
        (lambda t: t.update(s3VersionId=7), "versionId"),
    ],
    ids=["bad-bucket", "no-key", "bad-encoding", "bad-version"],
)
def test_a_task_that_cannot_be_read_fails_permanently_alone(change: Any, message: str) -> None:
    world = world_with(ObjectRef("uploads", "ok", etag="e" * 32))
    bad = batch_task("uploads", "x")
    change(bad)

    response = world.routes().batch_operations(
        batch_invocation(bad, batch_task("uploads", "ok")), INVOCATION
    )

    assert results(response) == [("PermanentFailure", "invalid"), ("Succeeded", "processed")]
    assert message in response["results"][0]["resultString"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**batch_invocation(), "invocationSchemaVersion": "3.0"}, "invocationSchemaVersion"),
        (batch_invocation({"s3Key": "k", "s3BucketArn": "arn:aws:s3:::uploads"}), "taskId"),
        ({**batch_invocation(), "tasks": None}, "tasks"),
        ({**batch_invocation(), "invocationId": ""}, "invocationId"),
    ],
    ids=["unknown-schema", "no-task-id", "no-tasks", "no-invocation-id"],
)
def test_an_invocation_that_cannot_be_answered_is_refused(
    event: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidEventError, match=message):
        RouteWorld().routes().batch_operations(event, INVOCATION)


@pytest.mark.parametrize(
    "key", ["a b+c.txt", "q1,2 #3 100%.csv", "reports/ü ß/☃.log", "%2B", "plain/key.txt"]
)
def test_a_key_from_s3once_backfills_manifest_reaches_the_route_as_the_same_key(key: str) -> None:
    (line,) = manifest_csv([Upload("uploads", key, "e" * 32, 1)], with_versions=False).splitlines()
    bucket, encoded = line.split(",")  # Batch Operations passes the manifest's key field as is
    world = world_with(ObjectRef("uploads", key, etag="e" * 32))
    task = batch_task(bucket, "x")
    task["s3Key"] = encoded

    response = world.routes().batch_operations(batch_invocation(task), INVOCATION)

    assert world.locator.calls == [("uploads", key, None)]
    assert results(response) == [("Succeeded", "processed")]
