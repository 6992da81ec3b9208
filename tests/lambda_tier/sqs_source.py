"""An SQS event source mapping with `ReportBatchItemFailures`, as AWS documents it.

Lambda polls the queue, invokes the function synchronously with a batch of up to `batch_size`
messages, and then: when the invocation fails, deletes nothing (every message becomes visible
again after the queue's visibility timeout); when it succeeds, deletes every message except
those its `batchItemFailures` names. A response that names a message not in the batch, or an
item without a usable `itemIdentifier`, fails the whole batch; an empty or missing list means
the whole batch succeeded.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.lambda_tier.function import REGION, Attempt, Function


@dataclass(frozen=True)
class Batch:
    """One poll: the messages delivered, the attempt, and which messages stay queued."""

    message_ids: list[str]
    receive_counts: dict[str, int]
    attempt: Attempt
    failed_ids: list[str]


class SqsEventSource:
    def __init__(
        self, function: Function, sqs: Any, queue_url: str, queue_arn: str, batch_size: int
    ) -> None:
        self.function = function
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size

    def poll(self) -> Batch | None:
        """Receive one batch, invoke the function with it, delete what succeeded."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return None
        event = {"Records": [self._record(message) for message in messages]}
        attempt = self.function.invoke(event, str(uuid.uuid4()))
        ids = [message["MessageId"] for message in messages]
        failed = batch_item_failures(attempt, ids)
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        counts = {
            message["MessageId"]: int(message["Attributes"]["ApproximateReceiveCount"])
            for message in messages
        }
        return Batch(ids, counts, attempt, [i for i in ids if i in failed])

    def drain(self, polls: int, pause_s: float) -> list[Batch]:
        """Poll until the queue holds no message at all (visible or in flight), at most
        `polls` batches; `pause_s` between empty polls, while failed messages are invisible."""
        batches: list[Batch] = []
        while len(batches) < polls and self._queued() > 0:
            batch = self.poll()
            if batch is None:
                time.sleep(pause_s)
            else:
                batches.append(batch)
        return batches

    def _queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as Lambda hands it to the function."""
        attributes = message["Attributes"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                name: attributes[name]
                for name in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                )
                if name in attributes
            },
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }


def batch_item_failures(attempt: Attempt, message_ids: list[str]) -> set[str]:
    """The messages Lambda leaves on the queue after `attempt`."""
    everything = set(message_ids)
    if not attempt.succeeded:
        return everything
    response = attempt.payload
    if response is None or (isinstance(response, dict) and not response.get("batchItemFailures")):
        return set()
    if not isinstance(response, dict) or not isinstance(response["batchItemFailures"], list):
        return everything
    failed: set[str] = set()
    for item in response["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed
