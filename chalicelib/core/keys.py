"""The lock table's partition key: an unambiguous encoding of
(processor, scope, bucket, key, scope identity), always within DynamoDB's key limit."""

from __future__ import annotations

import hashlib

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import IdempotencyScope, ObjectRef

# DynamoDB allows 2,048 bytes of UTF-8 in a partition key. Each part has a budget; a part whose
# escaped form exceeds it is replaced by its digest, so whatever arrives the pk stays within
# 4 separators + 7 (scope) + the budgets below = 1,676 bytes.
MAX_PK_BYTES = 2048
PROCESSOR_BYTES = 128
BUCKET_BYTES = 255  # bucket names are 63 characters today; older us-east-1 ones up to 255
KEY_BYTES = 1024  # S3's own limit for a key: any real key that needs no escaping stays readable
IDENTITY_BYTES = 2 + 256  # "e=" / "v=" and the eTag or versionId
_SEPARATOR = "#"
# An escaped part never holds "%" other than in "%25" or "%23", so "%sha256=" marks a digest
# that no readable part can spell.
_DIGEST_MARK = "%sha256="
# Items of the lock table that are no lock (a reconciliation's checkpoint) begin with this mark:
# a lock's pk begins with an escaped part, where "%" only begins "%25", "%23" or "%sha256=".
_CHECKPOINT_MARK = "%checkpoint="


def idempotency_key(
    obj: ObjectRef, scope: IdempotencyScope, processor: str, where: str = "s3.object"
) -> str:
    """Return the `pk` of `obj` for `processor`; two different (processor, scope, object) never
    share a `pk`, so each processor runs exactly once per upload. `where` names the object in
    the InvalidEventError raised when the scope needs an eTag it has not (`Records[0].s3.object`).

    Each part has `%` and `#` escaped, so `#` separates parts unambiguously while keys stay
    readable in the console. A part too long for its budget, or not encodable in UTF-8 (a lone
    surrogate), is replaced by `%sha256=<digest of the part>`, which no escaped part can equal.
    """
    return _SEPARATOR.join(
        (
            _part(processor, PROCESSOR_BYTES),
            scope.value,
            _part(obj.bucket, BUCKET_BYTES),
            _part(obj.key, KEY_BYTES),
            _identity(obj, scope, where),
        )
    )


def checkpoint_key(name: str) -> str:
    """The `pk` of the checkpoint item `name`, which no idempotency key can equal."""
    return _CHECKPOINT_MARK + _part(name, KEY_BYTES)


def _identity(obj: ObjectRef, scope: IdempotencyScope, where: str) -> str:
    if scope is IdempotencyScope.OBJECT:
        return "-"
    if scope is IdempotencyScope.VERSION and obj.version_id:
        return "v=" + _part(obj.version_id, IDENTITY_BYTES - 2)
    etag = unquoted_etag(obj.etag)
    if not etag:
        raise InvalidEventError(
            f"{where}.eTag is missing for {ascii(obj.bucket)[:80]}/{ascii(obj.key)[:200]}: "
            f"scope {scope.value!r} needs it to tell uploads apart"
        )
    return "e=" + _part(etag, IDENTITY_BYTES - 2)


def unquoted_etag(etag: str | None) -> str | None:
    """The eTag without the quotes HeadObject puts around it: `"abc"` and `abc` are one upload."""
    if etag and len(etag) >= 2 and etag[0] == etag[-1] == '"':
        return etag[1:-1]
    return etag


def _part(text: str, budget: int) -> str:
    escaped = text.replace("%", "%25").replace(_SEPARATOR, "%23")
    try:
        readable = len(escaped.encode("utf-8")) <= budget
    except UnicodeEncodeError:  # a lone surrogate: DynamoDB would refuse it
        readable = False
    if readable:
        return escaped
    # surrogatepass encodes every str, and differently for different strs
    return _DIGEST_MARK + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
