"""s3-once: process every S3 upload exactly once in effect.

The handler only translates: Lambda event in, domain objects to the pipeline, summary out.
At import only what the decorators need is read (the trigger's bucket, and the SQS route's queue
and batch size where the stage has one); every other setting is validated when the first
invocation builds the pipeline (so `chalice.test.Client` can apply a stage's variables).
"""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, Rate, S3Event, SQSEvent

from chalicelib.composition import pipeline_for, reconciler_for, route_handlers_for
from chalicelib.core.logs import request_context
from chalicelib.core.service import Invocation
from chalicelib.core.settings import app_bucket_name
from chalicelib.reconcile.settings import SCHEDULE_MINUTES, inventory_location
from chalicelib.routes.notifications import first_object_location, parse_event
from chalicelib.routes.settings import RouteSettings, eventbridge_pattern

app = Chalice(app_name="s3-once")


class S3NotificationEvent(S3Event):
    """Chalice's S3Event reads `Records[0].s3` as it is built, so S3's `s3:TestEvent` (no Records)
    or a malformed first record (a key that is null, a number, a list) would fail with a
    KeyError, TypeError or AttributeError before the handler runs. Here nothing that can fail is
    read: the handler sees every event, and `parse_event` ignores the test event or names what
    is wrong. (tests/unit/routes/test_chalice_contract.py pins the Chalice behaviour this
    relies on.)"""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        self.bucket, self.key = first_object_location(event_dict)


class EventBridgeEvent(CloudWatchEvent):
    """Chalice's CloudWatchEvent indexes nine fields as it is built (a KeyError before the
    handler runs when one is missing): here each is read if it is there, None otherwise, and
    `parse_eventbridge` names what is wrong."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        event = event_dict if isinstance(event_dict, dict) else {}
        for attribute, name in CLOUDWATCH_ATTRIBUTES:
            setattr(self, attribute, event.get(name))


CLOUDWATCH_ATTRIBUTES = (
    ("version", "version"),
    ("account", "account"),
    ("region", "region"),
    ("detail", "detail"),
    ("detail_type", "detail-type"),
    ("source", "source"),
    ("time", "time"),
    ("event_id", "id"),
    ("resources", "resources"),
)


def invocation(context: Any) -> Invocation:
    """The Lambda context object (typed as a dict by Chalice) as the pipeline needs it."""
    return Invocation(
        request_id=getattr(context, "aws_request_id", "") or "local",
        remaining_ms=int(context.get_remaining_time_in_millis()) if context is not None else None,
    )


@app.on_s3_event(bucket=app_bucket_name(os.environ), events=["s3:ObjectCreated:*"])
def on_object_created(event: S3Event) -> dict[str, Any]:
    current = invocation(event.context)
    with request_context(current.request_id):
        pipeline = pipeline_for(os.environ)
        return pipeline.handle(parse_event(event.to_dict()), current).to_dict()


on_object_created.event_class = S3NotificationEvent


# The other routes to the same records (docs/routes.md): S3 notifications queued in SQS (only
# on stages that name a queue), EventBridge "Object Created" events, S3 Batch Operations tasks.
# Their decorators' settings are read at import, like the bucket.
route_settings = RouteSettings.from_environ(os.environ)

if route_settings.sqs_queue_name:

    @app.on_sqs_message(
        queue=route_settings.sqs_queue_name, batch_size=route_settings.sqs_batch_size
    )
    def on_sqs_message(event: SQSEvent) -> dict[str, Any]:
        current = invocation(event.context)
        with request_context(current.request_id):
            return route_handlers_for(os.environ).sqs(event.to_dict(), current)


@app.on_cw_event(eventbridge_pattern(app_bucket_name(os.environ)))
def on_eventbridge_object_created(event: CloudWatchEvent) -> dict[str, object]:
    current = invocation(event.context)
    with request_context(current.request_id):
        return route_handlers_for(os.environ).eventbridge(event.to_dict(), current)


on_eventbridge_object_created.event_class = EventBridgeEvent


@app.lambda_function()
def on_batch_operations_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current = invocation(context)
    with request_context(current.request_id):
        return route_handlers_for(os.environ).batch_operations(event, current)


# Reconciliation from S3 Inventory (docs/operating.md), only on stages that name the reports.
if inventory_location(os.environ):

    @app.schedule(Rate(SCHEDULE_MINUTES, unit=Rate.MINUTES))
    def reconcile_from_inventory(event: CloudWatchEvent) -> dict[str, Any]:
        current = invocation(event.context)
        with request_context(current.request_id):
            return reconciler_for(os.environ).run(current)
