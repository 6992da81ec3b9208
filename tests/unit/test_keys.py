"""The lock table's pk: one per object, whatever characters the key holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import InvalidEventError
from chalicelib.keys import MAX_READABLE_PK_BYTES, idempotency_key
from chalicelib.model import IdempotencyScope, ObjectRef

buckets = st.sampled_from(["uploads", "uploads-2", "a.b-c"])
# Keys are any Unicode up to 1024 UTF-8 bytes in S3; the separator and escape characters are
# over-weighted so that the tricky cases are tried often.
keys = st.text(
    alphabet=st.one_of(st.sampled_from("#%/=e:v-23"), st.characters(codec="utf-8")),
    min_size=1,
    max_size=400,
)
identities = st.one_of(st.none(), st.text(alphabet="#%=abcdef0123456789-", min_size=1, max_size=12))
objects = st.builds(ObjectRef, bucket=buckets, key=keys, etag=identities, version_id=identities)

# Keys built from the separator and its escapes, raw and escaped: "#" and "%23" must stay apart.
escape_keys = st.lists(st.sampled_from(["#", "%23", "%25", "%", "a", "e="]), min_size=1, max_size=4)
escape_objects = st.builds(
    ObjectRef, bucket=st.just("uploads"), key=escape_keys.map("".join), etag=st.just("e")
)


@st.composite
def resplit_pairs(draw: st.DrawFn) -> tuple[ObjectRef, ObjectRef]:
    """Two objects that move a separator-like string from the key into the etag.

    ("p1#e=p2", "p3") and ("p1", "p2#e=p3"): a pk that merely joined its parts would be the same.
    """
    parts = st.text(alphabet="#%=ev23a/", max_size=4)
    separator = draw(st.sampled_from(["#", "#e=", "#v=", "#-", "%23"]))
    p1, p2, p3 = draw(parts), draw(parts), draw(parts)
    return (
        ObjectRef("uploads", p1 + separator + p2 or "k", etag=p3 or "e", version_id=p3 or None),
        ObjectRef("uploads", p1 or "k", etag=p2 + separator + p3, version_id=p2 + separator + p3),
    )


def identity(obj: ObjectRef, scope: IdempotencyScope) -> tuple[object, ...]:
    """What the scope says makes an object itself."""
    if scope is IdempotencyScope.OBJECT:
        return (obj.bucket, obj.key)
    if scope is IdempotencyScope.VERSION and obj.version_id:
        return (obj.bucket, obj.key, "version", obj.version_id)
    return (obj.bucket, obj.key, "etag", obj.etag)


@pytest.mark.parametrize("scope", list(IdempotencyScope))
@given(
    pair=st.one_of(
        st.tuples(objects, objects), st.tuples(escape_objects, escape_objects), resplit_pairs()
    )
)
def test_different_objects_never_share_a_pk(
    scope: IdempotencyScope, pair: tuple[ObjectRef, ObjectRef]
) -> None:
    a, b = pair
    if scope is not IdempotencyScope.OBJECT and not (a.etag and b.etag):
        return
    if identity(a, scope) != identity(b, scope):
        assert idempotency_key(a, scope, "content-type") != idempotency_key(
            b, scope, "content-type"
        )
    else:
        assert idempotency_key(a, scope, "content-type") == idempotency_key(
            b, scope, "content-type"
        )


@given(key=keys)
def test_pk_stays_within_dynamodb_key_limits(key: str) -> None:
    pk = idempotency_key(
        ObjectRef("uploads", key * 3, etag="e" * 32), IdempotencyScope.CONTENT, "content-type"
    )
    assert len(pk.encode()) <= 2048


def test_separator_characters_in_keys_cannot_forge_another_object() -> None:
    one = ObjectRef("uploads", "a#e=x", etag="y")
    other = ObjectRef("uploads", "a", etag="x#e=y")
    assert idempotency_key(one, IdempotencyScope.CONTENT, "content-type") != idempotency_key(
        other, IdempotencyScope.CONTENT, "content-type"
    )


def test_the_same_key_in_two_buckets_has_two_pks() -> None:
    first = ObjectRef("uploads-a", "k", etag="e")
    second = ObjectRef("uploads-b", "k", etag="e")
    assert idempotency_key(first, IdempotencyScope.OBJECT, "content-type") != idempotency_key(
        second, IdempotencyScope.OBJECT, "content-type"
    )


def test_content_scope_tells_changed_content_apart_and_object_scope_does_not() -> None:
    old = ObjectRef("uploads", "k", etag="e1")
    new = ObjectRef("uploads", "k", etag="e2")
    assert idempotency_key(old, IdempotencyScope.CONTENT, "content-type") != idempotency_key(
        new, IdempotencyScope.CONTENT, "content-type"
    )
    assert idempotency_key(old, IdempotencyScope.OBJECT, "content-type") == idempotency_key(
        new, IdempotencyScope.OBJECT, "content-type"
    )


def test_version_scope_uses_the_version_and_falls_back_to_the_etag() -> None:
    versioned = ObjectRef("uploads", "k", etag="e", version_id="v1")
    same_content_new_version = ObjectRef("uploads", "k", etag="e", version_id="v2")
    unversioned = ObjectRef("uploads", "k", etag="e")
    scope = IdempotencyScope.VERSION
    assert idempotency_key(versioned, scope, "content-type") != idempotency_key(
        same_content_new_version, scope, "content-type"
    )
    assert idempotency_key(unversioned, scope, "content-type") == idempotency_key(
        unversioned, IdempotencyScope.CONTENT, "content-type"
    ).replace("#content#", "#version#", 1)


def test_a_readable_pk_shows_the_key() -> None:
    pk = idempotency_key(
        ObjectRef("uploads", "reports/q1 #2.csv", etag="abc"),
        IdempotencyScope.CONTENT,
        "content-type",
    )
    assert pk == "content-type#content#uploads#reports/q1 %232.csv#e=abc"


def test_a_key_too_long_to_read_is_digested() -> None:
    pk = idempotency_key(
        ObjectRef("uploads", "é" * 1000, etag="abc"), IdempotencyScope.CONTENT, "content-type"
    )
    assert len(pk.encode()) <= MAX_READABLE_PK_BYTES
    assert "sha256=" in pk


@pytest.mark.parametrize("scope", [IdempotencyScope.CONTENT, IdempotencyScope.VERSION])
def test_a_scope_that_needs_the_etag_rejects_a_record_without_one(scope: IdempotencyScope) -> None:
    with pytest.raises(InvalidEventError, match="eTag is missing"):
        idempotency_key(ObjectRef("uploads", "k"), scope, "content-type")
