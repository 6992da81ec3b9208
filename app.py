"""s3-once: process every S3 upload exactly once in effect.

The handler only translates: Lambda event in, domain objects to the pipeline, summary out.
"""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, S3Event, SQSEvent

from chalicelib.composition import pipeline, route_handlers
from chalicelib.events import parse_event
from chalicelib.routes.settings import RouteSettings, eventbridge_pattern
from chalicelib.service import Invocation
from chalicelib.settings import Settings

app = Chalice(app_name="s3-once")
settings = Settings.from_environ(os.environ)


class S3NotificationEvent(S3Event):
    """Chalice's S3Event reads `Records[0].s3` as it is built, so S3's `s3:TestEvent` (no Records)
    or a malformed event would fail with a bare KeyError before the handler runs. Here the
    handler sees every event, and `parse_event` ignores the test event or names what is wrong."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        try:
            super()._extract_attributes(event_dict)
        except (KeyError, IndexError, TypeError):
            self.bucket, self.key = "", ""


@app.on_s3_event(bucket=settings.bucket_name, events=["s3:ObjectCreated:*"])
def on_object_created(event: S3Event) -> dict[str, Any]:
    parsed = parse_event(event.to_dict())
    context: Any = event.context  # the Lambda context object (typed as a dict by Chalice)
    invocation = Invocation(
        request_id=getattr(context, "aws_request_id", "") or "local",
        remaining_ms=int(context.get_remaining_time_in_millis()) if context is not None else None,
    )
    return pipeline(settings).handle(parsed, invocation).to_dict()


on_object_created.event_class = S3NotificationEvent


# The other routes to the same records (README "Routes"): S3 notifications queued in SQS (only
# on stages that name a queue), EventBridge "Object Created" events, S3 Batch Operations tasks.
route_settings = RouteSettings.from_environ(os.environ)


def _invocation(context: Any) -> Invocation:
    return Invocation(
        request_id=getattr(context, "aws_request_id", "") or "local",
        remaining_ms=int(context.get_remaining_time_in_millis()) if context is not None else None,
    )


if route_settings.sqs_queue_name:

    @app.on_sqs_message(
        queue=route_settings.sqs_queue_name, batch_size=route_settings.sqs_batch_size
    )
    def on_sqs_message(event: SQSEvent) -> dict[str, Any]:
        return route_handlers(settings).sqs(event.to_dict(), _invocation(event.context))


@app.on_cw_event(eventbridge_pattern(settings.bucket_name))
def on_eventbridge_object_created(event: CloudWatchEvent) -> dict[str, object]:
    return route_handlers(settings).eventbridge(event.to_dict(), _invocation(event.context))


@app.lambda_function()
def on_batch_operations_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return route_handlers(settings).batch_operations(event, _invocation(context))
