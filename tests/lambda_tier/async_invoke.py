"""Lambda's asynchronous invocation, as AWS documents it, on a scaled clock.

S3 (and EventBridge) invoke the function asynchronously: Lambda queues the event and gives it
a request id; when an attempt fails (a function error, a timeout, a process that died) it
retries the same event with the same request id, up to `maximum_retry_attempts` times (0 to 2),
about one minute after the first attempt and two minutes after the second, as long as the
event is younger than `maximum_event_age_in_seconds`. Then it sends a record of the invocation
to the on-failure destination, here an SQS queue. The delays and the event age are multiplied
by `time_scale`, so that a test waits seconds where Lambda waits minutes.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.lambda_tier.function import Attempt, Function

RETRY_DELAYS_S = (60.0, 120.0)
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"


@dataclass(frozen=True)
class AsyncSettings:
    """The function's event invoke config (infra/terraform's defaults), and the clock's scale."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: float = 21600.0
    time_scale: float = 1.0


@dataclass(frozen=True)
class QueueDestination:
    """An SQS queue as the on-failure destination."""

    sqs: Any
    queue_url: str

    def send(self, record: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))


@dataclass
class AsyncInvocation:
    request_id: str
    event: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    failure_record: dict[str, Any] | None = None  # what went to the on-failure destination

    @property
    def succeeded(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].succeeded


class AsyncInvoker:
    def __init__(
        self, function: Function, settings: AsyncSettings, on_failure: QueueDestination
    ) -> None:
        self.function = function
        self.settings = settings
        self.on_failure = on_failure

    def invoke(self, event: dict[str, Any]) -> AsyncInvocation:
        """Queue `event` (InvocationType=Event) and run every attempt Lambda would make."""
        invocation = AsyncInvocation(str(uuid.uuid4()), event)
        queued = time.monotonic()
        max_age_s = self.settings.maximum_event_age_s * self.settings.time_scale
        while True:
            attempt = self.function.invoke(event, invocation.request_id)
            invocation.attempts.append(attempt)
            if attempt.succeeded:
                return invocation
            retries = len(invocation.attempts) - 1
            if retries >= self.settings.maximum_retry_attempts:
                condition = RETRIES_EXHAUSTED
                break
            delay_s = RETRY_DELAYS_S[min(retries, len(RETRY_DELAYS_S) - 1)]
            delay_s *= self.settings.time_scale
            age_s = time.monotonic() - queued
            if age_s + delay_s > max_age_s:
                time.sleep(max(0.0, max_age_s - age_s))
                condition = EVENT_AGE_EXCEEDED
                break
            time.sleep(delay_s)
        invocation.failure_record = self.failure_record(invocation, condition)
        self.on_failure.send(invocation.failure_record)
        return invocation

    def failure_record(self, invocation: AsyncInvocation, condition: str) -> dict[str, Any]:
        """The on-failure destination's message, in the shape AWS documents."""
        last = invocation.attempts[-1]
        return {
            "version": "1.0",
            "timestamp": datetime.datetime.now(datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{self.function.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": len(invocation.attempts),
            },
            "requestPayload": invocation.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": last.payload,
        }
