"""The lock table's pk: one per (processor, scope, object), whatever the parts hold, and always
within DynamoDB's 2,048-byte key limit."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.keys import (
    BUCKET_BYTES,
    KEY_BYTES,
    MAX_PK_BYTES,
    PROCESSOR_BYTES,
    idempotency_key,
    unquoted_etag,
)
from chalicelib.core.model import IdempotencyScope, ObjectRef

# The separator, its escapes, the digest mark, quotes and lone surrogates are over-weighted so
# that the tricky cases are tried often; any other character may appear too.
TRICKY = st.one_of(
    st.sampled_from(["#", "%", "%23", "%25", "%sha256=", "e=", "v=", "-", '"', "\ud800", "é"]),
    st.characters(),
)
short_text = st.lists(TRICKY, min_size=1, max_size=6).map("".join)
# Parts around each budget, readable on one side and digested on the other: a run of one
# character (1, 2 or 3 bytes once escaped) with a tricky tail.
long_text = st.builds(
    lambda char, count, tail: char * count + tail,
    st.sampled_from(["a", "#", "é", "%", "\udc80"]),
    st.sampled_from([40, 42, 84, 85, 126, 127, 128, 129, 250, 255, 256, 340, 1022, 1024, 1025]),
    st.text(alphabet="#%a", max_size=2),
)
# Parts spelled from the escape sequences' own pieces: "#5" must not meet "%", "%23" not "#".
escape_text = st.lists(
    st.sampled_from(["#", "%", "2", "3", "5", "23", "25", "e=", "v=", "-", "sha256="]),
    min_size=1,
    max_size=4,
).map("".join)
parts = st.one_of(escape_text, short_text, long_text)
processors = st.one_of(st.sampled_from(["content-type", "access-log", "line-count"]), parts)
identities = st.one_of(st.none(), parts, parts.map(lambda text: f'"{text}"'))
objects = st.builds(ObjectRef, bucket=parts, key=parts, etag=identities, version_id=identities)
scopes = st.sampled_from(list(IdempotencyScope))


def with_field(obj: ObjectRef, name: str, value: str | None) -> ObjectRef:
    changes: dict[str, Any] = {name: value}
    return obj._replace(**changes)


@st.composite
def neighbours(draw: st.DrawFn) -> tuple[tuple[str, ObjectRef], tuple[str, ObjectRef]]:
    """Two (processor, object) pairs that differ in at most one or two fields, so that near
    misses (a separator moved between parts, a quote added, one byte past a budget) are tried."""
    first = (draw(processors), draw(objects))
    processor, obj = first
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(["processor", "bucket", "key", "etag", "version_id"]))
        if name == "processor":
            processor = draw(processors)
        else:
            value = draw(identities if name in ("etag", "version_id") else parts)
            obj = with_field(obj, name, value)
    return first, (processor, obj)


@st.composite
def resplit_pairs(draw: st.DrawFn) -> tuple[tuple[str, ObjectRef], tuple[str, ObjectRef]]:
    """A separator-like string moved from one part into the next: ("p1#e=p2", "p3") and
    ("p1", "p2#e=p3"). A pk that merely joined its parts would be the same."""
    text = st.text(alphabet="#%=ev23a/", max_size=4)
    separator = draw(st.sampled_from(["#", "#e=", "#v=", "#-", "%23", "#content#"]))
    p1, p2, p3 = draw(text), draw(text), draw(text)
    return (
        ("p", ObjectRef("b", p1 + separator + p2 or "k", etag=p3 or "e", version_id=p3 or None)),
        ("p", ObjectRef("b", p1 or "k", etag=p2 + separator + p3, version_id=p2 + separator + p3)),
    )


def identity(processor: str, obj: ObjectRef, scope: IdempotencyScope) -> tuple[object, ...]:
    """What the scope says makes an upload itself, for one processor."""
    if scope is IdempotencyScope.OBJECT:
        return (processor, obj.bucket, obj.key)
    if scope is IdempotencyScope.VERSION and obj.version_id:
        return (processor, obj.bucket, obj.key, "version", obj.version_id)
    return (processor, obj.bucket, obj.key, "etag", unquoted_etag(obj.etag))


def needs_etag(obj: ObjectRef, scope: IdempotencyScope) -> bool:
    if scope is IdempotencyScope.OBJECT or (scope is IdempotencyScope.VERSION and obj.version_id):
        return False
    return not unquoted_etag(obj.etag)


@settings(max_examples=500)
@given(
    scope=scopes,
    pair=st.one_of(
        neighbours(),
        resplit_pairs(),
        st.tuples(st.tuples(processors, objects), st.tuples(processors, objects)),
    ),
)
def test_two_different_processor_object_pairs_never_share_a_pk(
    scope: IdempotencyScope,
    pair: tuple[tuple[str, ObjectRef], tuple[str, ObjectRef]],
) -> None:
    (processor_a, a), (processor_b, b) = pair
    if needs_etag(a, scope) or needs_etag(b, scope):
        return
    pk_a = idempotency_key(a, scope, processor_a)
    pk_b = idempotency_key(b, scope, processor_b)
    same = identity(processor_a, a, scope) == identity(processor_b, b, scope)
    assert (pk_a == pk_b) == same


def read_back(pk: str) -> list[str]:
    """The parts a pk spells: split at "#", then undo the escapes (a digest stays a digest)."""
    return [re.sub("%2[35]", lambda m: {"%23": "#", "%25": "%"}[m[0]], p) for p in pk.split("#")]


def spelled(text: str, budget: int) -> str:
    """What a part should read back as: itself, or the digest of itself when too long or not
    UTF-8."""
    try:
        escaped_bytes = len(text.replace("%", "%25").replace("#", "%23").encode("utf-8"))
    except UnicodeEncodeError:
        escaped_bytes = budget + 1
    if escaped_bytes <= budget:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return "%sha256=" + digest


@settings(max_examples=500)
@given(scope=scopes, processor=processors, obj=objects)
def test_a_pk_reads_back_as_its_parts(
    scope: IdempotencyScope, processor: str, obj: ObjectRef
) -> None:
    """Reading back is a function of the pk, so parts that differ make pks that differ: with
    the pair test above, this shows no two (processor, object) share a pk."""
    if needs_etag(obj, scope):
        return
    expected = [
        spelled(processor, PROCESSOR_BYTES),
        scope.value,
        spelled(obj.bucket, BUCKET_BYTES),
        spelled(obj.key, KEY_BYTES),
    ]
    [*head, last] = read_back(idempotency_key(obj, scope, processor))
    assert head == expected
    if scope is IdempotencyScope.OBJECT:
        assert last == "-"
    elif scope is IdempotencyScope.VERSION and obj.version_id:
        assert last == "v=" + spelled(obj.version_id, 256)
    else:
        assert last == "e=" + spelled(str(unquoted_etag(obj.etag)), 256)


@given(scope=scopes, processor=processors, obj=objects)
def test_pk_is_valid_utf8_within_dynamodb_key_limit_whatever_arrives(
    scope: IdempotencyScope, processor: str, obj: ObjectRef
) -> None:
    if needs_etag(obj, scope):
        return
    pk = idempotency_key(obj, scope, processor)
    assert len(pk.encode("utf-8")) <= MAX_PK_BYTES  # strict UTF-8: no lone surrogate either


@pytest.mark.parametrize("field", ["bucket", "key", "etag", "version_id"])
def test_a_3000_byte_part_is_digested_and_the_pk_stays_under_the_limit(field: str) -> None:
    obj = with_field(ObjectRef("uploads", "k", etag="e", version_id="v"), field, "x" * 3000)
    scope = IdempotencyScope.CONTENT if field == "etag" else IdempotencyScope.VERSION
    pk = idempotency_key(obj, scope, "p" * 3000)
    assert len(pk.encode()) <= MAX_PK_BYTES
    assert pk.count("%sha256=") == 2  # the processor name and the part
    assert "xxx" not in pk


def test_all_parts_at_their_limits_still_fit() -> None:
    obj = ObjectRef("#" * 3000, "#" * 3000, etag="#" * 3000, version_id="#" * 3000)
    for scope in IdempotencyScope:
        assert len(idempotency_key(obj, scope, "#" * 3000).encode()) <= MAX_PK_BYTES


@pytest.mark.parametrize(
    ("budget", "build"),
    [
        (PROCESSOR_BYTES, lambda text: ("p", text, "uploads", "k")),
        (BUCKET_BYTES, lambda text: ("b", "p", text, "k")),
        (KEY_BYTES, lambda text: ("k", "p", "uploads", text)),
    ],
)
def test_a_part_stays_readable_up_to_its_budget_and_is_digested_past_it(
    budget: int, build: object
) -> None:
    def pk(text: str) -> str:
        _, processor, bucket, key = build(text)  # type: ignore[operator]
        return idempotency_key(
            ObjectRef(bucket, key, etag="e"), IdempotencyScope.CONTENT, processor
        )

    assert "a" * budget in pk("a" * budget)
    digested = pk("a" * (budget + 1))
    assert "a" * (budget + 1) not in digested
    assert "%sha256=" + hashlib.sha256(b"a" * (budget + 1)).hexdigest() in digested


def test_a_key_spelling_a_digest_is_not_the_digested_key() -> None:
    long_key = "k" * 2000
    digest = "%sha256=" + hashlib.sha256(long_key.encode()).hexdigest()
    scope = IdempotencyScope.CONTENT
    assert idempotency_key(ObjectRef("uploads", long_key, etag="e"), scope, "p") != (
        idempotency_key(ObjectRef("uploads", digest, etag="e"), scope, "p")
    )


def test_lone_surrogates_are_digested_not_sent_to_dynamodb() -> None:
    pk = idempotency_key(ObjectRef("uploads", "a\ud800", etag="e"), IdempotencyScope.CONTENT, "p")
    pk.encode("utf-8")
    other = idempotency_key(
        ObjectRef("uploads", "a\udc00", etag="e"), IdempotencyScope.CONTENT, "p"
    )
    assert pk != other


def test_a_quoted_etag_is_the_same_upload_as_the_bare_one() -> None:
    quoted = ObjectRef("uploads", "k", etag='"d41d8cd98f00b204e9800998ecf8427e"')
    bare = ObjectRef("uploads", "k", etag="d41d8cd98f00b204e9800998ecf8427e")
    scope = IdempotencyScope.CONTENT
    assert idempotency_key(quoted, scope, "p") == idempotency_key(bare, scope, "p")
    assert '"' not in idempotency_key(quoted, scope, "p")


def test_separator_characters_in_keys_cannot_forge_another_object() -> None:
    one = ObjectRef("uploads", "a#e=x", etag="y")
    other = ObjectRef("uploads", "a", etag="x#e=y")
    assert idempotency_key(one, IdempotencyScope.CONTENT, "content-type") != idempotency_key(
        other, IdempotencyScope.CONTENT, "content-type"
    )


def test_two_processors_over_one_upload_have_two_pks() -> None:
    obj = ObjectRef("uploads", "k", etag="e")
    for scope in IdempotencyScope:
        assert idempotency_key(obj, scope, "content-type") != idempotency_key(
            obj, scope, "access-log"
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


def test_a_readable_pk_shows_every_part() -> None:
    pk = idempotency_key(
        ObjectRef("uploads", "reports/q1 #2.csv", etag="abc"),
        IdempotencyScope.CONTENT,
        "content-type",
    )
    assert pk == "content-type#content#uploads#reports/q1 %232.csv#e=abc"


def test_a_key_of_1024_bytes_stays_readable() -> None:
    key = "é" * 512  # S3's longest key: 1,024 bytes of UTF-8
    pk = idempotency_key(ObjectRef("uploads", key, etag="abc"), IdempotencyScope.CONTENT, "p")
    assert pk == f"p#content#uploads#{key}#e=abc"


@pytest.mark.parametrize("scope", [IdempotencyScope.CONTENT, IdempotencyScope.VERSION])
@pytest.mark.parametrize("etag", [None, "", '""'])
def test_a_scope_that_needs_the_etag_rejects_a_record_without_one(
    scope: IdempotencyScope, etag: str | None
) -> None:
    with pytest.raises(InvalidEventError, match="eTag is missing"):
        idempotency_key(ObjectRef("uploads", "k", etag=etag), scope, "content-type")
