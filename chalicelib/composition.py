"""The composition root: the one place that creates AWS clients and wires the pipeline.

Settings are validated when the pipeline is first built for them (the first invocation), not
at import: a bad value fails that invocation with a message naming the variable. Clients are
created then and kept for the life of the Lambda container; nothing here touches the network
at import time. Endpoints come from boto3's standard configuration (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, region, credentials).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.aws.s3_objects import S3ObjectStore
from chalicelib.core.logs import configure_level, get_logger
from chalicelib.core.ports import SystemClock
from chalicelib.core.service import IdempotentPipeline, LeasePolicy
from chalicelib.core.settings import DEFAULT_LEASE_SECONDS, Settings
from chalicelib.processors import REGISTRY
from chalicelib.processors.plugin import ConfiguredProcessor, Resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from chalicelib.routes.handlers import RouteHandlers

# Containers see one configuration; tests and local runs may see a few.
MAX_CONFIGURATIONS = 16


def client_config(validate_parameters: bool = True) -> Config:
    """botocore's "standard" retries: throttling and transient errors are retried with backoff;
    what still fails propagates, so Lambda retries the event and no record is misread. The
    number of attempts is the standard AWS_MAX_ATTEMPTS (3 in all when unset).

    `validate_parameters=False` skips botocore's client-side check of each request against the
    service model (about a tenth of the client's CPU per DynamoDB request). It is off only for
    DynamoDB, whose every request is built by this package's adapters from typed values: the
    shapes are checked by mypy against the boto3 stubs and exercised by the tests against
    DynamoDB Local and moto, and DynamoDB validates each request itself (a malformed one fails
    with a ValidationException that propagates like any other error, nothing is misread). The
    S3 client keeps validation: its requests carry the event's bucket, key and version.

    A new Config for every client: botocore writes the resolved attempts into the one it is
    given, so a shared one would keep the first client's value for good."""
    return Config(retries={"mode": "standard"}, parameter_validation=validate_parameters)


def dynamodb_client(session: boto3.session.Session) -> DynamoDBClient:
    """The DynamoDB client the adapters use (parameter validation off: see client_config)."""
    return session.client("dynamodb", config=client_config(validate_parameters=False))


def pipeline_for(environ: Mapping[str, str]) -> IdempotentPipeline:
    """The pipeline `environ` describes: validated on every call (a few lookups), built once."""
    configure_level(environ)
    settings = Settings.from_environ(environ)
    return pipeline(settings, REGISTRY.configure(settings.processor, environ))


@functools.lru_cache(maxsize=MAX_CONFIGURATIONS)
def pipeline(settings: Settings, processor: ConfiguredProcessor) -> IdempotentPipeline:
    session = boto3.session.Session()
    objects = S3ObjectStore(session.client("s3", config=client_config()))
    dynamodb = dynamodb_client(session)
    resources = Resources(
        objects=objects,
        outputs=objects,
        dynamodb=dynamodb,
        lock_table_name=settings.lock_table_name,
    )
    # The repository commits the processor's counters with the completion (access-log).
    commit: Any = processor.completion_commit(resources)
    locks = DynamoDBLockRepository(
        dynamodb,
        settings.lock_table_name,
        commit,
        **(
            {}
            if settings.open_index_shards is None
            else {"open_shards": settings.open_index_shards}
        ),
    )
    return IdempotentPipeline(
        locks=locks,
        processor=processor.build(resources),
        clock=SystemClock(),
        scope=settings.scope,
        lease=LeasePolicy(settings.lease_seconds or DEFAULT_LEASE_SECONDS),
        record_ttl_days=settings.record_ttl_days,
        logger=get_logger(),
    )


def route_handlers_for(environ: Mapping[str, str]) -> RouteHandlers:
    """The SQS, EventBridge and Batch Operations routes `environ` describes, built once."""
    configure_level(environ)
    settings = Settings.from_environ(environ)
    return route_handlers(settings, REGISTRY.configure(settings.processor, environ))


@functools.lru_cache(maxsize=MAX_CONFIGURATIONS)
def route_handlers(settings: Settings, processor: ConfiguredProcessor) -> RouteHandlers:
    """The routes around the same pipeline. Their modules are imported here, on the first event
    of a route, so that a cold start of the S3 notification handler does not pay for them."""
    from chalicelib.aws.retryable import SERVICE_ERRORS, describe, is_transient
    from chalicelib.aws.s3_current import S3CurrentObjects
    from chalicelib.routes.delivery import ServiceErrors
    from chalicelib.routes.handlers import RouteHandlers

    session = boto3.session.Session()
    return RouteHandlers(
        handle=pipeline(settings, processor).handle,
        locator=S3CurrentObjects(session.client("s3", config=client_config())),
        errors=ServiceErrors(SERVICE_ERRORS, is_transient, describe),
        logger=get_logger(),
    )
