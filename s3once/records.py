"""Lock records as an operator reads them: parsed from DynamoDB items, with what the `pk` says
(processor, scope, identity) made readable. The layout is in docs/design.md."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3once.output import table

SEPARATOR = "#"


def summary_attributes() -> tuple[str, ...]:
    """What `status`, `show` and `backfill` read of a record, never the whole item (names from
    the lock table's layout, `chalicelib/aws/lock_table.py`, of the project operated on)."""
    from chalicelib.aws import lock_table as t

    return (
        t.PK,
        t.STATUS,
        t.BUCKET,
        t.KEY,
        t.ETAG,
        t.VERSION_ID,
        t.ATTEMPTS,
        t.OWNER,
        t.LEASE_EXPIRES_AT,
        t.UPDATED_AT,
        t.LAST_ERROR,
    )


def unescape(part: str) -> str:
    return part.replace("%23", SEPARATOR).replace("%25", "%")


@dataclass(frozen=True)
class PkParts:
    processor: str
    scope: str
    bucket: str
    identity: str


def pk_parts(pk: str) -> PkParts:
    """`<processor>#<scope>#<bucket>#<key>#<identity>` (six parts when the key is a digest)."""
    parts = pk.split(SEPARATOR)
    if len(parts) < 5:
        return PkParts(processor="?", scope="?", bucket="?", identity=pk)
    return PkParts(unescape(parts[0]), parts[1], unescape(parts[2]), unescape(parts[-1]))


@dataclass(frozen=True)
class RecordView:
    pk: str
    status: str
    bucket: str
    key: str
    attempts: int
    owner: str
    lease_expires_at_ms: int
    updated_at_ms: int
    last_error: str | None
    item: Mapping[str, Any]

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RecordView:
        from chalicelib.aws import lock_table as t

        return cls(
            pk=item[t.PK]["S"],
            status=item.get(t.STATUS, {}).get("S", "?"),
            bucket=item.get(t.BUCKET, {}).get("S", ""),
            key=item.get(t.KEY, {}).get("S", ""),
            attempts=int(item.get(t.ATTEMPTS, {}).get("N", "0")),
            owner=item.get(t.OWNER, {}).get("S", ""),
            lease_expires_at_ms=int(item.get(t.LEASE_EXPIRES_AT, {}).get("N", "0")),
            updated_at_ms=int(item.get(t.UPDATED_AT, {}).get("N", "0")),
            last_error=item.get(t.LAST_ERROR, {}).get("S"),
            item=item,
        )

    @property
    def parts(self) -> PkParts:
        return pk_parts(self.pk)

    def lease_live(self, now_ms: int) -> bool:
        from chalicelib.aws.lock_table import IN_PROGRESS

        return self.status == IN_PROGRESS and self.lease_expires_at_ms >= now_ms

    def to_json(self, now_ms: int) -> dict[str, Any]:
        from chalicelib.aws.lock_table import RESULT

        parts = self.parts
        return {
            "pk": self.pk,
            "processor": parts.processor,
            "scope": parts.scope,
            "identity": parts.identity,
            "bucket": self.bucket,
            "key": self.key,
            "status": self.status,
            "attempts": self.attempts,
            "owner": self.owner,
            "lease_expires_at": iso(self.lease_expires_at_ms),
            "lease_live": self.lease_live(now_ms),
            "updated_at": iso(self.updated_at_ms),
            "age_s": max(0, (now_ms - self.updated_at_ms) // 1000),
            "last_error": self.last_error,
            "result": plain(self.item[RESULT]) if RESULT in self.item else None,
        }


def iso(epoch_ms: int) -> str | None:
    if not epoch_ms:
        return None
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def age(now_ms: int, then_ms: int) -> str:
    seconds = max(0, (now_ms - then_ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON (numbers as int or float)."""
    from boto3.dynamodb.types import TypeDeserializer

    python = TypeDeserializer().deserialize(dict(value))  # type: ignore[arg-type]
    return _jsonable(python)


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    return value


def records_table(records: list[RecordView], now_ms: int) -> str:
    """Newest first: processor, status, age, attempts, key, and the error or lease."""
    from chalicelib.aws.lock_table import IN_PROGRESS

    rows = []
    for record in sorted(records, key=lambda r: r.updated_at_ms, reverse=True):
        if record.status == IN_PROGRESS:
            state = f"lease {'ends' if record.lease_live(now_ms) else 'ended'} " + (
                iso(record.lease_expires_at_ms) or "-"
            )
            detail = f"{state}, owner {record.owner}"
        else:
            detail = (record.last_error or "").replace("\n", " ")[:80]
        rows.append(
            (
                record.parts.processor,
                record.status,
                age(now_ms, record.updated_at_ms),
                record.attempts,
                f"s3://{record.bucket}/{record.key}",
                detail,
            )
        )
    return table(("processor", "status", "age", "attempts", "object", "last error / lease"), rows)
