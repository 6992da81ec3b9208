"""The ways to handle one S3 object that the benchmarks compare, each with its own client.

- no idempotency: the processing alone (the floor);
- the blog recipe: `put_item` "if not exists" on the object key, `delete_item` on error;
- Powertools: `idempotent_function` keyed on bucket + key + eTag, `DynamoDBPersistenceLayer`;
- s3-once: the production pipeline (key, fenced lease, completion, its JSON log line), built
  the way the composition root builds it, with a processor that does nothing.

Each processes the same trivial work (return the object's size), so the differences are what
each design costs per object.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib import composition
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.logs import get_logger
from chalicelib.core.model import IdempotencyScope, ObjectRef, ParsedEvent
from chalicelib.core.ports import ProcessingResult, SystemClock, WorkContext
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from chalicelib.core.settings import DEFAULT_LEASE_SECONDS
from s3once.aws.tables import create_lock_table


@dataclass
class Design:
    name: str
    deliver: Callable[[ObjectRef], object]
    clients: list[Any] = field(default_factory=list)


class LambdaContext:
    """What Powertools reads from the Lambda context: the time left (for its in-progress expiry)."""

    aws_request_id = "0f6e9a4c-bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class NoopProcessor:
    name = "bench"

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        return ProcessingResult(summary={"size": obj.size})


def quiet_logger(name: str) -> logging.Logger:
    """The application's logger, formatting every line as in production, writing nowhere."""
    logger = get_logger(name)
    sink = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    return logger


def no_idempotency(session: boto3.session.Session, table: str) -> Design:
    def deliver(obj: ObjectRef) -> object:
        return {"size": obj.size}

    return Design("no idempotency", deliver)


def recipe(session: boto3.session.Session, table: str) -> Design:
    client = session.client("dynamodb")
    create_lock_table(client, table)

    def deliver(obj: ObjectRef) -> object:
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=table,
                Item={"pk": {"S": obj.key}, "status": {"S": "COMPLETE"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return {"size": obj.size}
        return None

    return Design("blog recipe", deliver, [client])


def powertools(session: boto3.session.Session, table: str) -> Design:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_session=session)
    client = persistence.client
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    config = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]")
    config.register_lambda_context(LambdaContext())  # type: ignore[arg-type,unused-ignore]

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="record", persistence_store=persistence, config=config
    )
    def process(record: dict[str, Any]) -> dict[str, Any]:
        return {"size": record["size"]}

    def deliver(obj: ObjectRef) -> object:
        return process(
            record={"bucket": obj.bucket, "key": obj.key, "etag": obj.etag, "size": obj.size}
        )

    return Design("Powertools idempotent_function", deliver, [client])


def s3once(session: boto3.session.Session, table: str) -> Design:
    client = composition.dynamodb_client(session)
    create_lock_table(client, table)
    pipeline = IdempotentPipeline(
        locks=DynamoDBLockRepository(client, table),
        processor=NoopProcessor(),
        clock=SystemClock(),
        scope=IdempotencyScope.CONTENT,
        lease=LeasePolicy(DEFAULT_LEASE_SECONDS),
        record_ttl_days=30,
        logger=quiet_logger("benchmarks.s3once"),
    )
    invocation = Invocation(request_id="0f6e9a4c-bench", remaining_ms=60_000)

    def deliver(obj: ObjectRef) -> object:
        return pipeline.handle(ParsedEvent(objects=[obj]), invocation)

    return Design("s3-once", deliver, [client])


DESIGNS: tuple[Callable[[boto3.session.Session, str], Design], ...] = (
    no_idempotency,
    recipe,
    powertools,
    s3once,
)
