"""The lock table's partition key: an unambiguous encoding of
(processor, scope, bucket, key, scope identity)."""

from __future__ import annotations

import hashlib

from chalicelib.errors import InvalidEventError
from chalicelib.model import IdempotencyScope, ObjectRef

# DynamoDB allows 2048 bytes in a partition key; readable keys stay well inside it.
MAX_READABLE_PK_BYTES = 1024
_SEPARATOR = "#"


def idempotency_key(obj: ObjectRef, scope: IdempotencyScope, processor: str) -> str:
    """Return the `pk` of `obj` for `processor`; two different (processor, object) pairs under
    one scope never share a `pk`, so each processor runs exactly once per upload.

    Each part has `%` and `#` escaped, so `#` separates parts unambiguously while keys stay
    readable in the console. An object key too long to stay readable is replaced by its SHA-256
    digest behind an empty part: the result has six parts where a readable `pk` has five, so
    the two forms never meet.
    """
    prefix = (_escape(processor), scope.value, _escape(obj.bucket))
    pk = _SEPARATOR.join((*prefix, _escape(obj.key), _identity(obj, scope)))
    if len(pk.encode("utf-8")) <= MAX_READABLE_PK_BYTES:
        return pk
    digest = hashlib.sha256(obj.key.encode("utf-8")).hexdigest()
    return _SEPARATOR.join((*prefix, "", "sha256=" + digest, _identity(obj, scope)))


def _identity(obj: ObjectRef, scope: IdempotencyScope) -> str:
    if scope is IdempotencyScope.OBJECT:
        return "-"
    if scope is IdempotencyScope.VERSION and obj.version_id:
        return "v=" + _escape(obj.version_id)
    if not obj.etag:
        raise InvalidEventError(
            f"s3.object.eTag is missing for {obj.bucket}/{obj.key}: "
            f"scope {scope.value!r} needs it to tell uploads apart"
        )
    return "e=" + _escape(obj.etag)


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(_SEPARATOR, "%23")
