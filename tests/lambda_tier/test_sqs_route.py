"""The SQS route under an event source mapping that honours `batchItemFailures`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from s3once.s3_events import created_event, put_upload
from tests.conftest import unique_name
from tests.faults import S3_UNAVAILABLE, FaultProxy, FaultRule
from tests.lambda_tier.conftest import Deploy, Stage
from tests.lambda_tier.deployment import event_source_mappings
from tests.lambda_tier.sqs_source import SqsEventSource

# A failed message is visible again this long after it was received (the deployed queue
# waits 6 x the function's timeout).
VISIBILITY_TIMEOUT_S = 1
BOTOCORE_ATTEMPTS = 3


def test_a_partial_batch_failure_redelivers_only_the_failed_message(
    stage: Stage, deploy: Deploy, s3_proxy: FaultProxy, terraform_dir: Path
) -> None:
    [mapping] = event_source_mappings(terraform_dir)
    function = deploy(mapping.function, s3_url=s3_proxy.url)
    assert function.config.variables["SQS_QUEUE_NAME"] == mapping.queue_name
    queue_name = unique_name(mapping.queue_name)  # this test's copy of the stage's queue
    queue_url = stage.sqs.create_queue(
        QueueName=queue_name, Attributes={"VisibilityTimeout": str(VISIBILITY_TIMEOUT_S)}
    )["QueueUrl"]
    arn = stage.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    source = SqsEventSource(
        function, stage.sqs, queue_url, arn["Attributes"]["QueueArn"], mapping.batch_size
    )
    keys = ["queued/a 1.txt", "queued/b 2.txt", "queued/c 3.txt"]
    message_ids = {}
    for key in keys:
        upload = put_upload(stage.s3, stage.bucket, key, key.encode(), "text/plain")
        body = json.dumps(created_event(upload))  # S3 queues its notification as the body
        message_ids[key] = stage.sqs.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"]
    # The third object cannot be read the first time (S3 answers 503 to every try).
    failing = f"/{quote(keys[2])}"
    s3_proxy.rules.append(
        FaultRule(
            lambda method, path, _: method == "HEAD" and path.split("?")[0].endswith(failing),
            S3_UNAVAILABLE,
            times=BOTOCORE_ATTEMPTS,
        )
    )

    first, redelivery = source.drain(polls=5, pause_s=0.2)

    assert sorted(first.message_ids) == sorted(message_ids.values())
    assert first.attempt.succeeded
    failed = message_ids[keys[2]]
    assert first.attempt.payload == {"batchItemFailures": [{"itemIdentifier": failed}]}
    assert first.failed_ids == [failed]
    # Only the failed message came back, received for the second time, and was done.
    assert redelivery.message_ids == [failed]
    assert redelivery.receive_counts == {failed: 2}
    assert redelivery.attempt.payload == {"batchItemFailures": []}
    records = {item["key"]["S"]: item for item in stage.lock_items()}
    assert {key: (r["status"]["S"], r["attempts"]["N"]) for key, r in records.items()} == {
        keys[0]: ("COMPLETED", "1"),
        keys[1]: ("COMPLETED", "1"),
        keys[2]: ("COMPLETED", "2"),
    }
