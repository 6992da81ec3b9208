"""The composition root: the one place that creates AWS clients and wires the pipeline.

Settings are validated when the pipeline is first built for them (the first invocation), not
at import: a bad value fails that invocation with a message naming the variable. Later
invocations find the wiring again by the values of the variables its settings read. Clients are
created then and kept for the life of the Lambda container; nothing here touches the network
at import time. Endpoints come from boto3's standard configuration (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, region, credentials).
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.aws.s3_objects import S3ObjectStore
from chalicelib.core.logs import get_logger, log_level
from chalicelib.core.ports import SystemClock
from chalicelib.core.service import IdempotentPipeline, LeasePolicy
from chalicelib.core.settings import DEFAULT_LEASE_SECONDS, Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from chalicelib.reconcile.scheduled import ScheduledReconciler
    from chalicelib.reconcile.settings import ReconcileSettings
    from chalicelib.routes.handlers import RouteHandlers

# Containers see one configuration; tests and local runs may see a few.
MAX_CONFIGURATIONS = 16
# botocore appends its own name and version (the session's User-Agent extra).
USER_AGENT = f"Boto3/{boto3.__version__} Python/{platform.python_version()} s3-once"


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
    """The DynamoDB client the adapters use: parameter validation off (see client_config) and a
    fixed User-Agent. botocore otherwise rebuilds its User-Agent header twice per request from
    some thirty sanitised components (platform, versions, config and feature ids): about a
    seventh of the client's CPU per DynamoDB request, for a header only AWS's usage statistics
    read. The fixed one still names the SDK, its version, Python and the application."""
    config = client_config(validate_parameters=False).merge(Config(user_agent=USER_AGENT))
    return session.client("dynamodb", config=config)


class _ReadingEnviron(Mapping[str, str]):
    """`environ` as the settings read it, noting each name read and what it held (None when
    unset): the values a configuration depends on, and nothing else."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.read: dict[str, str | None] = {}

    def __getitem__(self, name: str) -> str:
        value = self._environ.get(name)
        self.read[name] = value
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._environ)  # whoever iterates depends on every variable
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


class Wiring:
    """One configuration's pipeline, and the other routes around it (built on their first
    event, so that a cold start of the S3 notification handler does not pay for them)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        # The processors' registry is imported here, with the processor it configures: once
        # per container, on the first event, not on every cold start's `import app`.
        from chalicelib.processors import REGISTRY
        from chalicelib.processors.plugin import Resources

        self.level = log_level(environ)
        self.settings = settings = Settings.from_environ(environ)
        self.processor = processor = REGISTRY.configure(settings.processor, environ)
        self._session = boto3.session.Session()
        # One client per service for the container: the routes and the reconciliation share them.
        self._s3 = self._session.client("s3", config=client_config())
        objects = S3ObjectStore(self._s3)
        dynamodb = dynamodb_client(self._session)
        resources = Resources(
            objects=objects,
            outputs=objects,
            dynamodb=dynamodb,
            lock_table_name=settings.lock_table_name,
        )
        # The repository commits the processor's counters with the completion (access-log).
        commit: Any = processor.completion_commit(resources)
        self.pipeline = IdempotentPipeline(
            locks=DynamoDBLockRepository(
                dynamodb, settings.lock_table_name, commit, settings.open_index_shards
            ),
            processor=processor.build(resources),
            clock=SystemClock(),
            scope=settings.scope,
            lease=LeasePolicy(settings.lease_seconds or DEFAULT_LEASE_SECONDS),
            record_ttl_days=settings.record_ttl_days,
            logger=get_logger(),
        )
        self._dynamodb = dynamodb
        self._routes: RouteHandlers | None = None
        self._reconcilers: dict[ReconcileSettings, ScheduledReconciler] = {}

    def routes(self) -> RouteHandlers:
        if self._routes is None:
            from chalicelib.aws.retryable import SERVICE_ERRORS, describe, is_transient
            from chalicelib.aws.s3_current import S3CurrentObjects
            from chalicelib.routes.delivery import ServiceErrors
            from chalicelib.routes.handlers import RouteHandlers

            self._routes = RouteHandlers(
                handle=self.pipeline.handle,
                locator=S3CurrentObjects(self._s3),
                errors=ServiceErrors(SERVICE_ERRORS, is_transient, describe),
                logger=get_logger(),
            )
        return self._routes

    def reconciler(self, inventory: ReconcileSettings) -> ScheduledReconciler:
        """The scheduled reconciliation around the same pipeline, built on its first run."""
        if inventory not in self._reconcilers:
            from chalicelib.aws.inventory_reports import S3InventoryReports
            from chalicelib.aws.lock_lookup import DynamoDBRecordLookup
            from chalicelib.aws.reconcile_checkpoints import DynamoDBCheckpoints
            from chalicelib.core.keys import idempotency_key
            from chalicelib.reconcile.scheduled import ScheduledReconciler

            settings, table = self.settings, self.settings.lock_table_name
            self._reconcilers[inventory] = ScheduledReconciler(
                inventory,
                bucket=settings.bucket_name,
                scope=settings.scope,
                processor=self.processor.name,
                reports=S3InventoryReports(self._s3),
                lookup=DynamoDBRecordLookup(self._dynamodb, table),
                checkpoints=DynamoDBCheckpoints(self._dynamodb, table),
                handle=self.pipeline.handle,
                key_of=functools.partial(
                    idempotency_key, scope=settings.scope, processor=self.processor.name
                ),
                clock=SystemClock(),
                logger=get_logger(),
            )
        return self._reconcilers[inventory]


# The configurations built so far: the variables each read, with their values, and its wiring.
_WIRINGS: list[tuple[tuple[tuple[str, str | None], ...], Wiring]] = []


def wiring_for(environ: Mapping[str, str]) -> Wiring:
    """The wiring `environ` describes: built and validated the first time (a bad value raises
    ConfigurationError naming it), then found again by comparing only the variables its
    settings read, so an invocation does not validate the settings again."""
    wiring = next(
        (built for read, built in _WIRINGS if all(environ.get(n) == v for n, v in read)), None
    )
    if wiring is None:
        reading = _ReadingEnviron(environ)
        wiring = Wiring(reading)
        _WIRINGS.insert(0, (tuple(reading.read.items()), wiring))
        del _WIRINGS[MAX_CONFIGURATIONS:]
    get_logger().setLevel(wiring.level)
    return wiring


def pipeline_for(environ: Mapping[str, str]) -> IdempotentPipeline:
    """The pipeline `environ` describes, built once."""
    return wiring_for(environ).pipeline


def route_handlers_for(environ: Mapping[str, str]) -> RouteHandlers:
    """The SQS, EventBridge and Batch Operations routes `environ` describes, built once."""
    return wiring_for(environ).routes()


def reconciler_for(environ: Mapping[str, str]) -> ScheduledReconciler:
    """The scheduled reconciliation `environ` describes (a stage with INVENTORY_LOCATION)."""
    from chalicelib.reconcile.settings import ReconcileSettings

    return wiring_for(environ).reconciler(ReconcileSettings.from_environ(environ))
