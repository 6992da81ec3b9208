"""Counter increments committed with the completion of a lock record, exactly once.

Each commit is a `TransactWriteItems` whose first action updates the lock record on condition
that the worker still holds its fence (`status = IN_PROGRESS AND attempts = :fence`); the other
actions ADD to one counter item each. Either all of it happens while the fence is current, or
nothing does: a worker whose lease was taken over changes no counter.

A transaction holds at most 100 actions. When a release has more increments than fit beside
the lock action, they are committed in several fenced steps, in key order. Each step also
records on the lock record the last key it committed (`counters_through`), conditional on the
value the previous step left, and the last step marks the record COMPLETED. The first step
also stores the whole plan on the lock record (`counters_plan`: the increments and the result,
gzipped JSON), in the same transaction. A worker that takes over a record with progress on it
(the acquisition says so, `Acquired.resume_commit`) reads the plan after its acquisition, when
no older fence can move it any more, and commits the keys after the progress: it does not read
the object again, which may have changed or gone since. The last step removes both attributes.

The increments are checked whole before the first step: what could never commit fails
permanently first. A step whose answer was lost is recognised when its resend fails: the lock
record returned with the cancellation shows the step's own progress under the caller's fence.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from chalicelib.aws import lock_table as t
from chalicelib.aws.dynamodb_values import HELD_BY_ME, attribute_value
from chalicelib.core.errors import CommitTooLargeError, LockStoreError
from chalicelib.core.increments import checked_increments
from chalicelib.core.model import JsonMap, LockStatus
from chalicelib.core.ports import CounterIncrement, Release, Settled

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
    )

MAX_TRANSACTION_ACTIONS = 100
PROGRESS_ATTRIBUTE = t.COUNTERS_THROUGH
PLAN_ATTRIBUTE = t.COUNTERS_PLAN
# A DynamoDB item holds 400 KB; the stored plan must leave room for the rest of the record.
MAX_PLAN_BYTES = 300_000
TRANSACTION_CANCELED = "TransactionCanceledException"
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
# Concurrent commits that touch the same hour conflict; a cancelled transaction changed
# nothing, so it is sent again (under a new token) after a short, jittered pause.
CONFLICT_RETRIES = 12
_REASONS_IN_MESSAGE = re.compile(r"\[([^\]]*)\]")


class Plan(NamedTuple):
    """Everything a commit applies: the sorted increments and the result to complete with."""

    increments: tuple[CounterIncrement, ...]
    result: JsonMap

    def encode(self) -> bytes:
        document = {
            "result": self.result,
            "increments": [[item.key, dict(item.deltas)] for item in self.increments],
        }
        encoded = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)
        if len(encoded) > MAX_PLAN_BYTES:
            raise CommitTooLargeError(
                f"{len(self.increments)} counter items need a {len(encoded)}-byte plan,"
                f" more than the {MAX_PLAN_BYTES} bytes a lock record can hold"
            )
        return encoded

    @classmethod
    def decode(cls, encoded: bytes) -> Plan:
        document = json.loads(gzip.decompress(encoded))
        increments = tuple(CounterIncrement(key, deltas) for key, deltas in document["increments"])
        return cls(increments, document["result"])


class Step(NamedTuple):
    """One fenced transaction of a commit."""

    increments: Sequence[CounterIncrement]
    after: str | None  # the last key committed before this step (None: the first step)
    result: JsonMap  # stored when the step is the last
    last: bool
    plan: bytes | None  # stored with the first of several steps


class FencedCounterCommit:
    def __init__(
        self,
        client: DynamoDBClient,
        lock_table: str,
        counters_table: str,
        max_actions: int = MAX_TRANSACTION_ACTIONS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_actions < 2:
            raise ValueError("a transaction needs room for the lock record and one counter")
        self._client = client
        self._lock_table = lock_table
        self._counters_table = counters_table
        self._per_step = max_actions - 1
        self._sleep = sleep

    def commit(self, release: Release) -> Settled:
        """Add the increments and complete the record; LEASE_LOST if the fence was lost on the way.

        With `release.resume`, the increments and result are the ones the previous holder
        stored in its first step, and only the keys after its progress are committed.
        """
        if release.resume:
            stored = self._read_plan(release)
            if stored is None:
                return Settled.LEASE_LOST
            plan, through = stored
            checked_increments(plan.increments)  # a plan stored by older code may never commit
        else:
            plan, through = Plan(checked_increments(release.increments), release.result or {}), None
        pending = [item for item in plan.increments if through is None or item.key > through]
        steps = [
            pending[i : i + self._per_step] for i in range(0, len(pending), self._per_step)
        ] or [[]]
        # The first of several steps stores the plan with its progress, atomically, so that
        # whoever takes over finishes this commit without the object. Encoded before the first
        # step: a plan too large to store fails before anything is committed.
        encoded = plan.encode() if through is None and len(steps) > 1 else None
        for index, chunk in enumerate(steps):
            step = Step(
                increments=chunk,
                after=through,
                result=plan.result,
                last=index == len(steps) - 1,
                plan=encoded if index == 0 else None,
            )
            ended = self._commit_step(release, step)
            if ended is not None:
                return ended
            if chunk:
                through = chunk[-1].key
        return Settled.COMPLETED

    def _read_plan(self, release: Release) -> tuple[Plan, str] | None:
        """The stored plan and the last key committed under it; None if the fence was lost."""
        item = self._client.get_item(
            TableName=self._lock_table,
            Key={t.PK: {"S": release.pk}},
            ConsistentRead=True,
        ).get("Item")
        if (
            not item
            or item.get(t.STATUS, {}).get("S") != LockStatus.IN_PROGRESS.value
            or item.get(t.ATTEMPTS, {}).get("N") != str(release.fence)
        ):
            return None
        if PROGRESS_ATTRIBUTE not in item or PLAN_ATTRIBUTE not in item:
            raise LockStoreError(f"{release.pk!r} has no stored commit to resume")
        return Plan.decode(bytes(item[PLAN_ATTRIBUTE]["B"])), item[PROGRESS_ATTRIBUTE]["S"]

    def _commit_step(self, release: Release, step: Step) -> Settled | None:
        """None when the step is in (now, or by a send whose answer was lost); otherwise how the
        commit ended without it."""
        actions = [self._lock_action(release, step)]
        actions += [self._counter_action(increment) for increment in step.increments]
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self._client.transact_write_items(
                    TransactItems=actions,
                    ClientRequestToken=_token(self._lock_table, release, step.after, attempt),
                )
            except ClientError as exc:
                reasons = _cancellation_reasons(exc)
                if reasons is None:
                    raise
                if reasons and reasons[0] == CONDITION_FAILED:
                    return self._refused_step(release, step, _lock_item(exc))
                if TRANSACTION_CONFLICT not in reasons or attempt == CONFLICT_RETRIES:
                    raise
                self._sleep(random.uniform(0, min(0.02 * 2**attempt, 1.0)))
                continue
            return None
        raise AssertionError("unreachable")  # pragma: no cover

    def _refused_step(
        self, release: Release, step: Step, item: Mapping[str, Any] | None
    ) -> Settled | None:
        # Without the item (reasons named only in the message) it can only be a lost lease.
        if str((item or {}).get(t.ATTEMPTS, {}).get("N")) != str(release.fence):
            return Settled.LEASE_LOST
        status = str((item or {}).get(t.STATUS, {}).get("S"))
        if status == LockStatus.COMPLETED.value:
            return Settled.COMPLETED  # our last step was applied; its answer was lost
        if status == LockStatus.FAILED.value:
            return Settled.FAILED
        through = (item or {}).get(PROGRESS_ATTRIBUTE, {}).get("S")
        if not step.last and step.increments and through == step.increments[-1].key:
            return None  # this very step was applied; its answer was lost
        raise LockStoreError(
            f"{release.pk!r}: step after {step.after!r} refused by its own fence at {through!r}"
        )

    def _lock_action(self, release: Release, step: Step) -> TransactWriteItemTypeDef:
        names = {
            "#status": t.STATUS,
            "#attempts": t.ATTEMPTS,
            "#updated": t.UPDATED_AT,
            "#through": PROGRESS_ATTRIBUTE,
        }
        values: dict[str, AttributeValueTypeDef] = {
            ":in_progress": {"S": LockStatus.IN_PROGRESS.value},
            ":fence": {"N": str(release.fence)},
            ":now": {"N": str(release.now_ms)},
        }
        if step.after is None:
            condition = f"{HELD_BY_ME} AND attribute_not_exists(#through)"
        else:
            condition = f"{HELD_BY_ME} AND #through = :previous"
            values[":previous"] = {"S": step.after}
        if step.last:
            names.update({"#result": t.RESULT, "#expires": t.EXPIRES_AT})
            values.update(
                {
                    ":completed": {"S": LockStatus.COMPLETED.value},
                    ":result": attribute_value(step.result),
                    ":expires": {"N": str(release.expires_at)},
                }
            )
            # The completion leaves the open-work index in the same fenced transaction.
            update = (
                "SET #status = :completed, #result = :result, #updated = :now,"
                f" #expires = :expires REMOVE #through, #plan, {t.OPEN_SHARD}, {t.OPEN_SINCE}"
            )
            names["#plan"] = PLAN_ATTRIBUTE
        else:
            values[":through"] = {"S": step.increments[-1].key}
            update = "SET #through = :through, #updated = :now"
            if step.plan is not None:
                names["#plan"] = PLAN_ATTRIBUTE
                values[":plan"] = {"B": step.plan}
                update += ", #plan = :plan"
        return {
            "Update": {
                "TableName": self._lock_table,
                "Key": {t.PK: {"S": release.pk}},
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _counter_action(self, increment: CounterIncrement) -> TransactWriteItemTypeDef:
        deltas = sorted(increment.deltas.items())
        return {
            "Update": {
                "TableName": self._counters_table,
                "Key": {"pk": {"S": increment.key}},
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))),
                "ExpressionAttributeNames": {f"#c{i}": name for i, (name, _) in enumerate(deltas)},
                "ExpressionAttributeValues": {
                    f":c{i}": {"N": str(value)} for i, (_, value) in enumerate(deltas)
                },
            }
        }


def _token(table: str, release: Release, through: str | None, attempt: int) -> str:
    """Same step, same attempt, same token: a resend after a lost response is not applied twice.

    Tokens are unique per account and region, not per table: the table is part of the token,
    or two stages' tables with the same pk would collide (IdempotentParameterMismatch)."""
    text = json.dumps([table, release.pk, release.fence, through, attempt])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:36]


def _lock_item(exc: ClientError) -> Mapping[str, Any] | None:
    """The lock record as the cancelled transaction's first action found it, if returned."""
    reasons = exc.response.get("CancellationReasons") or []
    item: Mapping[str, Any] | None = reasons[0].get("Item") if reasons else None
    return item or None


def _cancellation_reasons(exc: ClientError) -> list[str] | None:
    """The code of each action's cancellation reason; None if this is not a cancellation."""
    if exc.response.get("Error", {}).get("Code") != TRANSACTION_CANCELED:
        return None
    reasons = exc.response.get("CancellationReasons")
    if reasons:
        return [str(reason.get("Code", "None")) for reason in reasons]
    # Some servers name the reasons only in the message: "... [ConditionalCheckFailed, None]"
    match = _REASONS_IN_MESSAGE.search(str(exc.response.get("Error", {}).get("Message", "")))
    return [part.strip() for part in match.group(1).split(",")] if match else []
