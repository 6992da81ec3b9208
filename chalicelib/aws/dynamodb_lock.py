"""The lock repository on DynamoDB: one item per idempotency key, every write conditional.

The record's `attempts` counts acquisitions and doubles as the fencing token: renewal,
completion and failure are conditional on it, so a worker whose lease was taken over can change
nothing.

Every write reads the item back when its condition fails (`ReturnValuesOnConditionCheckFailure`),
and that item tells whether the write already applied is the caller's own: botocore resends a
request whose answer was lost, and the resend of an applied write fails its condition. The
acquisition stores a token unique to it (`lease_token`) and the status it replaced
(`acquired_from`); completion and failure compare status and fence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.aws import lock_table as t
from chalicelib.aws.dynamodb_values import HELD_BY_ME, attribute_value
from chalicelib.core.errors import ConfigurationError, LockStoreError
from chalicelib.core.model import LockRecord, LockStatus
from chalicelib.core.ports import Acquired, Acquisition, LeaseRequest, Refused, Release, Settled

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from chalicelib.aws.dynamodb_counters import FencedCounterCommit

CONDITION_FAILED = "ConditionalCheckFailedException"

TOKEN_ATTRIBUTE = t.LEASE_TOKEN
FROM_ATTRIBUTE = t.ACQUIRED_FROM
_NEW_RECORD = t.NEW_RECORD
_SETTLED = {LockStatus.COMPLETED: Settled.COMPLETED, LockStatus.FAILED: Settled.FAILED}

# The acquisition's request, kept small: the client's CPU grows with every name and value it
# serialises and signs. Only the names DynamoDB reserves (status, owner, bucket, key) are
# aliased, and size, which is also a function; the others appear as they are.
_ACQUIRE_NAMES = {
    "#st": t.STATUS,
    "#ow": t.OWNER,
    "#bk": t.BUCKET,
    "#ky": t.KEY,
    "#sz": t.SIZE,
}
_ACQUIRE_SETS = ", ".join(
    (
        # Every operand reads the item as it was before this write.
        f"{FROM_ATTRIBUTE} = if_not_exists(#st, :nw)",
        "#st = :ip",
        f"{t.ATTEMPTS} = if_not_exists({t.ATTEMPTS}, :0) + :1",
        f"{t.LEASE_EXPIRES_AT} = :ls",
        "#ow = :ow",
        f"{t.CREATED_AT} = if_not_exists({t.CREATED_AT}, :now)",
        f"{t.UPDATED_AT} = :now",
        f"{t.EXPIRES_AT} = :ex",
        f"{TOKEN_ATTRIBUTE} = :tk",
        # The record enters (or moves within) the open-work index: docs/capacity.md.
        f"{t.OPEN_SHARD} = :os",
        f"{t.OPEN_SINCE} = :now",
    )
)
# A FAILED record loses its error; `result` needs no removal: a COMPLETED record is never
# acquired again.
_ACQUIRE_REMOVES = t.LAST_ERROR
_ACQUIRE_CONDITION = (
    f"attribute_not_exists({t.PK}) OR #st = :fd OR (#st = :ip AND {t.LEASE_EXPIRES_AT} < :now)"
)
_IN_PROGRESS: AttributeValueTypeDef = {"S": LockStatus.IN_PROGRESS.value}
_FAILED: AttributeValueTypeDef = {"S": LockStatus.FAILED.value}
_ZERO: AttributeValueTypeDef = {"N": "0"}
_ONE: AttributeValueTypeDef = {"N": "1"}
_NEW: AttributeValueTypeDef = {"S": _NEW_RECORD}


class DynamoDBLockRepository:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        counters: FencedCounterCommit | None = None,
        open_shards: int = t.DEFAULT_OPEN_SHARDS,  # validated with the core's settings
    ) -> None:
        self._client = client
        self._table = table_name
        self._counters = counters
        self._shards = open_shards

    def acquire(self, request: LeaseRequest) -> Acquisition:
        obj = request.obj
        values: dict[str, AttributeValueTypeDef] = {
            ":ip": _IN_PROGRESS,
            ":fd": _FAILED,
            ":0": _ZERO,
            ":1": _ONE,
            ":nw": _NEW,
            ":now": {"N": str(request.now_ms)},
            ":ls": {"N": str(request.lease_expires_at_ms)},
            ":ow": {"S": request.owner},
            ":ex": {"N": str(request.expires_at)},
            ":tk": {"S": request.token},
            ":os": {"S": t.open_shard(request.pk, t.IN_PROGRESS, self._shards)},
        }
        sets = [_ACQUIRE_SETS]
        removes = [_ACQUIRE_REMOVES]
        for name, value in (
            ("#bk", obj.bucket),
            ("#ky", obj.key),
            (t.ETAG, obj.etag),
            (t.VERSION_ID, obj.version_id),
            (t.SEQUENCER, obj.sequencer),
            ("#sz", obj.size),
        ):
            if value is None:
                removes.append(name)
            else:
                placeholder = ":" + name.lstrip("#")
                sets.append(f"{name} = {placeholder}")
                values[placeholder] = {"N": str(value)} if isinstance(value, int) else {"S": value}
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={t.PK: {"S": request.pk}},
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression=_ACQUIRE_CONDITION,
                ExpressionAttributeNames=_ACQUIRE_NAMES,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _error_code(exc) != CONDITION_FAILED:
                raise
            item = _returned_item(exc)
            record = _to_record(request.pk, item)
            if record.status is LockStatus.IN_PROGRESS and _text(item, TOKEN_ATTRIBUTE) == (
                request.token
            ):
                # This acquisition was applied; its answer was lost and botocore resent it.
                replaced = _text(item, FROM_ATTRIBUTE)
                return Acquired(
                    fence=record.attempts,
                    previous_status=None if replaced == _NEW_RECORD else LockStatus(replaced),
                    resume_commit=t.COUNTERS_THROUGH in (item or {}),
                )
            return Refused(record)
        previous = response.get("Attributes")
        if not previous:
            return Acquired(fence=1, previous_status=None)
        return Acquired(
            fence=int(str(previous[t.ATTEMPTS]["N"])) + 1,
            previous_status=LockStatus(previous[t.STATUS]["S"]),
            resume_commit=t.COUNTERS_THROUGH in previous,
        )

    def renew(self, pk: str, fence: int, lease_expires_at_ms: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={t.PK: {"S": pk}},
                UpdateExpression="SET #lease = :lease",
                ConditionExpression=HELD_BY_ME,
                ExpressionAttributeNames={
                    "#status": t.STATUS,
                    "#attempts": t.ATTEMPTS,
                    "#lease": t.LEASE_EXPIRES_AT,
                },
                ExpressionAttributeValues={
                    ":in_progress": {"S": LockStatus.IN_PROGRESS.value},
                    ":fence": {"N": str(fence)},
                    ":lease": {"N": str(lease_expires_at_ms)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _error_code(exc) != CONDITION_FAILED:
                raise
            # Still our fence (completed or failed by us meanwhile): not a lost lease.
            return _fence_of(_returned_item(exc)) == fence
        return True

    def complete(self, release: Release) -> Settled:
        if release.increments or release.resume:
            if self._counters is None:
                raise ConfigurationError(
                    "counter increments to commit but no counter table is set (the"
                    " processor's table variable is missing from the stage)"
                )
            return self._counters.commit(release)
        return self._release(release, LockStatus.COMPLETED, t.RESULT, release.result or {})

    def fail(self, release: Release) -> Settled:
        return self._release(release, LockStatus.FAILED, t.LAST_ERROR, release.error or "")

    def _release(
        self, release: Release, status: LockStatus, field: str, payload: object
    ) -> Settled:
        values: dict[str, AttributeValueTypeDef] = {
            ":status": {"S": status.value},
            ":in_progress": {"S": LockStatus.IN_PROGRESS.value},
            ":fence": {"N": str(release.fence)},
            ":payload": attribute_value(payload),
            ":now": {"N": str(release.now_ms)},
            ":expires": {"N": str(release.expires_at)},
        }
        update = (
            "SET #status = :status, #payload = :payload,"
            f" {t.UPDATED_AT} = :now, {t.EXPIRES_AT} = :expires"
        )
        if status is LockStatus.COMPLETED:
            # Leaves the open-work index, in the same conditional write.
            update += f" REMOVE {t.OPEN_SHARD}, {t.OPEN_SINCE}"
        else:
            update += f", {t.OPEN_SHARD} = :os, {t.OPEN_SINCE} = :now"
            values[":os"] = {"S": t.open_shard(release.pk, status.value, self._shards)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={t.PK: {"S": release.pk}},
                UpdateExpression=update,
                ConditionExpression=HELD_BY_ME,
                ExpressionAttributeNames={
                    "#status": t.STATUS,
                    "#attempts": t.ATTEMPTS,
                    "#payload": field,
                },
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _error_code(exc) != CONDITION_FAILED:
                raise
            return settled_by(_returned_item(exc), release.fence)
        return _SETTLED[status]


def settled_by(item: Mapping[str, Any] | None, fence: int) -> Settled:
    """What a record that refused a release of `fence` says: ours (a resent write whose first
    send was applied, or an earlier release of ours), or another fence's."""
    if _fence_of(item) != fence:
        return Settled.LEASE_LOST
    status = LockStatus(_text(item, t.STATUS))
    if status is LockStatus.IN_PROGRESS:
        raise LockStoreError(f"a release of fence {fence} was refused by its own live lease")
    return _SETTLED[status]


def _to_record(pk: str, item: Mapping[str, Any] | None) -> LockRecord:
    if not item:
        # A failed condition always has an item to return (attribute_not_exists was false).
        raise LockStoreError(f"conditional check failed on {pk!r} but no item was returned")
    return LockRecord(
        pk=pk,
        status=LockStatus(item[t.STATUS]["S"]),
        attempts=int(item[t.ATTEMPTS]["N"]),
        owner=item.get(t.OWNER, {}).get("S", ""),
        lease_expires_at_ms=int(item.get(t.LEASE_EXPIRES_AT, {}).get("N", "0")),
    )


def _returned_item(exc: ClientError) -> Mapping[str, Any] | None:
    """The item a failed condition returned (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    item: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
    return item


def _fence_of(item: Mapping[str, Any] | None) -> int | None:
    attempts = (item or {}).get(t.ATTEMPTS, {}).get("N")
    return None if attempts is None else int(attempts)


def _text(item: Mapping[str, Any] | None, name: str) -> str:
    return str((item or {}).get(name, {}).get("S", ""))


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
