"""S3 event notifications queued in SQS: one message at a time, each with a fate of its own.

The message body holds an S3 notification (queued by S3 itself, or by an SNS subscription with
raw message delivery), an SNS envelope around one (`Type: Notification`, the notification in
`Message`: S3 -> SNS -> SQS fan-out), or an EventBridge S3 event (a rule targeting the queue).
Each message is parsed and delivered as an event of its own, so a busy or failed message
is reported alone in `batchItemFailures` and the batch's finished messages are deleted from the
queue rather than delivered again. The `s3:TestEvent` S3 sends when the notification is
configured is dropped. A body that is not an S3 notification is reported failed: SQS delivers
it again until `maxReceiveCount`, then moves it to the queue's dead-letter queue.

The response shape is Lambda's partial batch response; the event source mapping needs
`FunctionResponseTypes: [ReportBatchItemFailures]`, or Lambda ignores it (see docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import IncompleteBatchError, InvalidEventError
from chalicelib.core.logs import log
from chalicelib.core.model import ParsedEvent
from chalicelib.routes.delivery import Delivery, Fate
from chalicelib.routes.eventbridge import parse_eventbridge
from chalicelib.routes.notifications import parse_event


@dataclass(frozen=True)
class QueuedMessage:
    """One SQS message: the notification its body holds, or why it holds none."""

    message_id: str
    event: ParsedEvent | None
    error: str = ""


def read_messages(event: object) -> list[QueuedMessage]:
    """The messages of an SQS batch. A message whose body cannot be read is returned with its
    error (it fails alone); a batch whose messages cannot even be named raises
    InvalidEventError, since no partial answer could name them."""
    if not isinstance(event, Mapping) or not isinstance(event.get("Records"), list):
        raise InvalidEventError("an SQS batch has a 'Records' list; this event has none")
    messages = []
    for index, record in enumerate(event["Records"]):
        where = f"Records[{index}]"
        if not isinstance(record, Mapping) or record.get("eventSource") != "aws:sqs":
            raise InvalidEventError(f"{where} is not an SQS message (eventSource 'aws:sqs')")
        message_id = record.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            raise InvalidEventError(f"{where}.messageId is missing or not a non-empty string")
        messages.append(_read_body(message_id, record.get("body"), where))
    return messages


def _read_body(message_id: str, body: object, where: str) -> QueuedMessage:
    if not isinstance(body, str):
        return QueuedMessage(message_id, None, f"{where}.body is not a string")
    try:
        return QueuedMessage(message_id, _parse_body(_json(body, f"{where}.body"), where))
    except InvalidEventError as exc:
        return QueuedMessage(message_id, None, str(exc))


def _json(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except RecursionError:  # the decoder's own guard against deep nesting
        raise InvalidEventError(f"{where} nests too deep to read") from None
    except ValueError as exc:  # not JSON, or a number of more than 4,300 digits
        raise InvalidEventError(f"{where} is not JSON: {str(exc)[:200]}") from None


def _parse_body(body: object, where: str) -> ParsedEvent:
    if isinstance(body, Mapping) and body.get("Type") == "Notification" and "TopicArn" in body:
        message = body.get("Message")
        if not isinstance(message, str):
            raise InvalidEventError(f"{where}.body.Message (SNS) is not a string")
        body = _json(message, f"{where}.body.Message (SNS)")
    try:
        if isinstance(body, Mapping) and "detail-type" in body:
            return parse_eventbridge(body)
        return parse_event(body)
    except InvalidEventError as exc:
        raise InvalidEventError(f"{where}.body: {exc}") from None


def answer_messages(
    messages: list[QueuedMessage],
    deliver: Callable[[ParsedEvent], Delivery],
    logger: logging.Logger,
    request_id: str,
) -> dict[str, Any]:
    """Deliver each message in turn; return Lambda's partial batch response naming the
    messages to deliver again. When every message failed the invocation fails instead: the
    same outcome with ReportBatchItemFailures, and no message lost without it."""
    failures: list[str] = []
    for message in messages:
        if message.event is None:
            outcome = Delivery(Fate.REJECTED, message.error)
        else:
            outcome = deliver(message.event)
        if outcome.fate is not Fate.DONE:
            failures.append(message.message_id)
        log(
            logger,
            logging.INFO if outcome.fate is Fate.DONE else logging.WARNING,
            "message " + outcome.fate.value,
            route="sqs",
            message_id=message.message_id,
            fate=outcome.fate.value,
            outcomes=[record.get("outcome") for record in outcome.records],
            request_id=request_id,
            error=outcome.detail or None,
        )
    if messages and len(failures) == len(messages):
        raise IncompleteBatchError(busy=(), failed=tuple(f"message {m}" for m in failures))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
