"""The lock repository on DynamoDB: one item per idempotency key, every write conditional.

The record's `attempts` counts acquisitions and doubles as the fencing token: completion and
failure are conditional on it, so a worker whose lease was taken over can change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.dynamodb_counters import PROGRESS_ATTRIBUTE, FencedCounterCommit
from chalicelib.dynamodb_values import HELD_BY_ME, attribute_value
from chalicelib.errors import ConfigurationError, LockStoreError
from chalicelib.model import LockRecord, LockStatus
from chalicelib.ports import Acquired, Acquisition, LeaseRequest, Refused, Release

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

CONDITION_FAILED = "ConditionalCheckFailedException"

_NAMES = {
    "#pk": "pk",
    "#status": "status",
    "#attempts": "attempts",
    "#lease": "lease_expires_at",
    "#owner": "owner",
    "#updated": "updated_at",
    "#expires": "expires_at",
}
_OBJECT_ATTRIBUTES = ("bucket", "key", "etag", "version_id", "sequencer", "size")


class DynamoDBLockRepository:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        counters: FencedCounterCommit | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._counters = counters

    def acquire(self, request: LeaseRequest) -> Acquisition:
        obj = request.obj
        object_values = {
            "bucket": obj.bucket,
            "key": obj.key,
            "etag": obj.etag,
            "version_id": obj.version_id,
            "sequencer": obj.sequencer,
            "size": obj.size,
        }
        names = dict(
            _NAMES,
            **{f"#{name}": name for name in _OBJECT_ATTRIBUTES},
            **{"#last_error": "last_error", "#result": "result", "#created": "created_at"},
        )
        values: dict[str, AttributeValueTypeDef] = {
            ":in_progress": {"S": LockStatus.IN_PROGRESS.value},
            ":failed": {"S": LockStatus.FAILED.value},
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":now": {"N": str(request.now_ms)},
            ":lease": {"N": str(request.lease_expires_at_ms)},
            ":owner": {"S": request.owner},
            ":expires": {"N": str(request.expires_at)},
        }
        sets = [
            "#status = :in_progress",
            "#attempts = if_not_exists(#attempts, :zero) + :one",
            "#lease = :lease",
            "#owner = :owner",
            "#created = if_not_exists(#created, :now)",
            "#updated = :now",
            "#expires = :expires",
        ]
        removes = ["#last_error", "#result"]
        for name, value in object_values.items():
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = attribute_value(value)
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": request.pk}},
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression=(
                    "attribute_not_exists(#pk) OR #status = :failed"
                    " OR (#status = :in_progress AND #lease < :now)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _error_code(exc) != CONDITION_FAILED:
                raise
            return Refused(_to_record(request.pk, exc.response.get("Item")))  # type: ignore[arg-type]
        previous = response.get("Attributes")
        if not previous:
            return Acquired(fence=1, previous_status=None)
        return Acquired(
            fence=int(str(previous["attempts"]["N"])) + 1,
            previous_status=LockStatus(previous["status"]["S"]),
            resume_commit=PROGRESS_ATTRIBUTE in previous,
        )

    def complete(self, release: Release) -> bool:
        if release.increments or release.resume:
            if self._counters is None:
                raise ConfigurationError(
                    "counter increments to commit but no counter table is set"
                    " (AGGREGATES_TABLE_NAME)"
                )
            return self._counters.commit(release)
        return self._release(release, LockStatus.COMPLETED, "#result", release.result or {})

    def fail(self, release: Release) -> bool:
        return self._release(release, LockStatus.FAILED, "#last_error", release.error or "")

    def _release(self, release: Release, status: LockStatus, field: str, payload: object) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": release.pk}},
                UpdateExpression=(
                    f"SET #status = :status, {field} = :payload,"
                    " #updated = :now, #expires = :expires"
                ),
                ConditionExpression=HELD_BY_ME,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempts": "attempts",
                    "#updated": "updated_at",
                    "#expires": "expires_at",
                    field: field[1:],
                },
                ExpressionAttributeValues={
                    ":status": {"S": status.value},
                    ":in_progress": {"S": LockStatus.IN_PROGRESS.value},
                    ":fence": {"N": str(release.fence)},
                    ":payload": attribute_value(payload),
                    ":now": {"N": str(release.now_ms)},
                    ":expires": {"N": str(release.expires_at)},
                },
            )
        except ClientError as exc:
            if _error_code(exc) != CONDITION_FAILED:
                raise
            return False
        return True


def _to_record(pk: str, item: Mapping[str, Any] | None) -> LockRecord:
    if not item:
        # A failed condition always has an item to return (attribute_not_exists was false).
        raise LockStoreError(f"conditional check failed on {pk!r} but no item was returned")
    return LockRecord(
        pk=pk,
        status=LockStatus(item["status"]["S"]),
        attempts=int(item["attempts"]["N"]),
        owner=item.get("owner", {}).get("S", ""),
        lease_expires_at_ms=int(item.get("lease_expires_at", {}).get("N", "0")),
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
