"""The routes on in-memory fakes: the real pipeline, lock and processor fakes, a fake HeadObject."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.retryable import SERVICE_ERRORS, describe, is_transient
from chalicelib.core.errors import ObjectNotFoundError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope, LockStatus, ObjectRef
from chalicelib.core.ports import Acquisition, LeaseRequest
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from chalicelib.routes.delivery import ServiceErrors
from chalicelib.routes.handlers import RouteHandlers
from tests.fakes import FakeClock, FakeProcessor, InMemoryLockRepository

INVOCATION = Invocation("req-1", remaining_ms=30_000)
ERRORS = ServiceErrors(SERVICE_ERRORS, is_transient, describe)


def client_error(code: str, status: int = 400, operation: str = "UpdateItem") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}}
    response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, operation)


class FaultyLocks(InMemoryLockRepository):
    """Raises `errors[key]` (an AWS error) when an object with that key is acquired."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, Exception] = {}

    def acquire(self, request: LeaseRequest) -> Acquisition:
        if request.obj.key in self.errors:
            raise self.errors[request.obj.key]
        return super().acquire(request)


@dataclass
class FakeLocator:
    """HeadObject on a dict of objects by (bucket, key); `calls` records what was asked."""

    objects: dict[tuple[str, str], ObjectRef] = field(default_factory=dict)
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    error: Exception | None = None

    def add(self, obj: ObjectRef) -> None:
        self.objects[(obj.bucket, obj.key)] = obj

    def locate(self, bucket: str, key: str, version_id: str | None) -> ObjectRef:
        self.calls.append((bucket, key, version_id))
        if self.error is not None:
            raise self.error
        try:
            return self.objects[(bucket, key)]
        except KeyError:
            raise ObjectNotFoundError(f"s3://{bucket}/{key} does not exist") from None


@dataclass
class RouteWorld:
    locks: FaultyLocks = field(default_factory=FaultyLocks)
    processor: FakeProcessor = field(default_factory=FakeProcessor)
    locator: FakeLocator = field(default_factory=FakeLocator)
    clock: FakeClock = field(default_factory=FakeClock)

    def pipeline(self) -> IdempotentPipeline:
        logger = logging.getLogger("test.routes")
        return IdempotentPipeline(
            locks=self.locks,
            processor=self.processor,
            clock=self.clock,
            scope=IdempotencyScope.CONTENT,
            lease=LeasePolicy(60),
            record_ttl_days=30,
            logger=logger,
        )

    def routes(self) -> RouteHandlers:
        return RouteHandlers(
            self.pipeline().handle, self.locator, ERRORS, logging.getLogger("test.routes")
        )

    def status(self, obj: ObjectRef) -> LockStatus:
        return self.locks.status(idempotency_key(obj, IdempotencyScope.CONTENT, "fake"))

    def hold(self, obj: ObjectRef) -> None:
        """Another invocation takes a live lease on `obj`."""
        pk = idempotency_key(obj, IdempotencyScope.CONTENT, "fake")
        now = self.clock.now_ms()
        self.locks.acquire(LeaseRequest(pk, obj, "other-invocation", now, now + 600_000, 0))
