"""The composition root: the one place that creates AWS clients and wires the pipeline.

Clients are created on first use and kept for the life of the Lambda container; nothing here
touches the network at import time. Endpoints come from boto3's standard configuration
(`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, region, credentials).
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

from chalicelib.dynamodb_counters import FencedCounterCommit
from chalicelib.dynamodb_lock import DynamoDBLockRepository
from chalicelib.logs import get_logger
from chalicelib.ports import SystemClock
from chalicelib.processors import build_processor
from chalicelib.s3_objects import S3ObjectStore
from chalicelib.service import IdempotentPipeline, LeasePolicy
from chalicelib.settings import DEFAULT_LEASE_SECONDS, Settings


def client_config() -> Config:
    """botocore's "standard" retries: throttling and transient errors are retried with backoff;
    what still fails propagates, so Lambda retries the event and no record is misread. The
    number of attempts is the standard AWS_MAX_ATTEMPTS (3 in all when unset).

    A new Config for every client: botocore writes the resolved attempts into the one it is
    given, so a shared one would keep the first client's value for good."""
    return Config(retries={"mode": "standard"})


@functools.cache
def pipeline(settings: Settings) -> IdempotentPipeline:
    session = boto3.session.Session()
    objects = S3ObjectStore(session.client("s3", config=client_config()))
    dynamodb = session.client("dynamodb", config=client_config())
    counters = (
        FencedCounterCommit(dynamodb, settings.lock_table_name, settings.aggregates_table_name)
        if settings.aggregates_table_name
        else None
    )
    locks = DynamoDBLockRepository(dynamodb, settings.lock_table_name, counters)
    return IdempotentPipeline(
        locks=locks,
        processor=build_processor(settings.processor, objects, settings.access_log_format),
        clock=SystemClock(),
        scope=settings.scope,
        lease=LeasePolicy(settings.lease_seconds or DEFAULT_LEASE_SECONDS),
        record_ttl_days=settings.record_ttl_days,
        logger=get_logger(),
    )
