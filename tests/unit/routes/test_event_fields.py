"""Each field of an S3 event checked where it is read: S3's limits, messages naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import InvalidEventError
from chalicelib.routes import fields

WHERE = "Records[3].s3.object"


@pytest.mark.parametrize(
    "name", ["abc", "my-bucket.logs", "a" * 63, "0bucket9", "bucket--x-s3", "xn-ok"]
)
def test_valid_bucket_names_are_returned(name: str) -> None:
    assert fields.bucket_name(name, "Records[0].s3.bucket") == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("a" * 3000, "3 to 63"),
        ("Uploads", "only a-z"),
        ("under_score", "only a-z"),
        ("-bucket", "only a-z"),
        ("bucket.", "only a-z"),
        ("two..dots", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "reserves"),
        ("sthree-bucket", "reserves"),
        ("bucket-s3alias", "reserves"),
        ("bucket--ol-s3", "reserves"),
        ("ünï", "only a-z"),
        ("\ud800ab", "only a-z"),
    ],
)
def test_invalid_bucket_names_are_refused_naming_the_rule(name: str, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=rf"Records\[0\]\.s3\.bucket\.name .*{reason}"):
        fields.bucket_name(name, "Records[0].s3.bucket")


@pytest.mark.parametrize("value", [None, "", 5, ["a"], {"a": 1}, True])
def test_a_bucket_name_must_be_a_non_empty_string(value: object) -> None:
    with pytest.raises(InvalidEventError, match=r"\.name is missing or not a non-empty string"):
        fields.bucket_name(value, "Records[0].s3.bucket")


@pytest.mark.parametrize(
    ("raw", "key"),
    [("red+flower%2B1.jpg", "red flower+1.jpg"), ("caf%C3%A9", "café"), ("100%25", "100%")],
)
def test_an_encoded_key_is_decoded(raw: str, key: str) -> None:
    assert fields.object_key(raw, WHERE, url_encoded=True) == key


def test_a_key_not_url_encoded_is_kept_as_is() -> None:
    assert fields.object_key("a+b%2B", WHERE, url_encoded=False) == "a+b%2B"


def test_a_key_of_exactly_1024_bytes_is_accepted_and_one_more_is_refused() -> None:
    assert fields.object_key("é" * 512, WHERE, url_encoded=False) == "é" * 512
    with pytest.raises(InvalidEventError, match=r"key is 1025 bytes of UTF-8"):
        fields.object_key("é" * 512 + "a", WHERE, url_encoded=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "missing or not a non-empty string"),
        (7, "missing or not a non-empty string"),
        ("", "missing or not a non-empty string"),
        ("%FF%FE", "does not URL-decode to UTF-8"),
        ("%ED%A0%80", "does not URL-decode to UTF-8"),
        ("a\ud800b", "lone surrogate"),
        ("k" * 5000, "over S3's 1024-byte limit|longer than S3's 1024-byte limit"),
    ],
)
def test_bad_keys_are_refused_naming_the_field(value: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=rf"Records\[3\]\.s3\.object\.key .*({message})"):
        fields.object_key(value, WHERE, url_encoded=True)


def test_a_lone_surrogate_never_reaches_the_message() -> None:
    with pytest.raises(InvalidEventError) as caught:
        fields.object_key("a\udc80", WHERE, url_encoded=False)
    str(caught.value).encode("utf-8")  # a lone surrogate in the message would raise here


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"d41d8cd98f00b204e9800998ecf8427e"', "d41d8cd98f00b204e9800998ecf8427e"),
        ("d41d8cd98f00b204e9800998ecf8427e-12", "d41d8cd98f00b204e9800998ecf8427e-12"),
        (None, None),
        ("", None),
        ('""', None),
    ],
)
def test_an_etag_loses_its_quotes_and_absent_is_none(value: object, expected: str | None) -> None:
    assert fields.etag(value, WHERE) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "not a string"),
        ("e" * 3000, "longer than 128"),
        ('ab"c', "visible ASCII"),
        ("a b", "visible ASCII"),
        ("é", "visible ASCII"),
        ("\ud800", "visible ASCII"),
    ],
)
def test_bad_etags_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=rf"Records\[3\]\.s3\.object\.eTag .*{message}"):
        fields.etag(value, WHERE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("null", None),
        (None, None),
        ("", None),
        ("3/L4kqtJlcpXroDTDmJ+rmS", "3/L4kqtJlcpXroDTDmJ+rmS"),
    ],
)
def test_version_ids(value: object, expected: str | None) -> None:
    assert fields.version_id(value, WHERE) == expected


@pytest.mark.parametrize("value", [1, "v" * 257, "v 1", "v\x00"])
def test_bad_version_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidEventError, match=r"Records\[3\]\.s3\.object\.versionId"):
        fields.version_id(value, WHERE)


def test_sequencers_are_bounded_hex() -> None:
    assert fields.sequencer("0055AED6DCD90281E5", WHERE) == "0055AED6DCD90281E5"
    assert fields.sequencer(None, WHERE) is None
    for bad in ("Happy Sequencer", "0" * 65, 12):
        with pytest.raises(InvalidEventError, match=r"Records\[3\]\.s3\.object\.sequencer"):
            fields.sequencer(bad, WHERE)


@pytest.mark.parametrize("value", [0, 1024, 5 * 1024**4])
def test_sizes_within_s3_limits(value: int) -> None:
    assert fields.size(value, WHERE) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12", "not a whole number"),
        (True, "not a whole number"),
        (1.5, "not a whole number"),
        (-1, "between 0 and 5 TiB"),
        (5 * 1024**4 + 1, "between 0 and 5 TiB"),
        (10**39, "over 38 digits"),
        pytest.param(10**5000, "over 38 digits", id="5001-digits"),
    ],
)
def test_bad_sizes_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=rf"Records\[3\]\.s3\.object\.size .*{message}"):
        fields.size(value, WHERE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1970-01-01T00:00:00.000Z", 0),
        ("2026-01-01T00:00:00.000Z", 1_767_225_600_000),
        ("2026-01-01T01:00:00.123+01:00", 1_767_225_600_123),
        (None, None),
    ],
)
def test_event_time_in_epoch_milliseconds(value: object, expected: int | None) -> None:
    assert fields.event_time_ms(value, "Records[0]") == expected


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-01-01T00:00:00",
        "0001-01-01T00:00:00+01:00",
        "1969-12-31T23:59:59Z",
        "2" * 5000,
        17,
        "\ud800",
    ],
)
def test_bad_event_times_are_refused(value: object) -> None:
    with pytest.raises(InvalidEventError, match=r"Records\[0\]\.eventTime"):
        fields.event_time_ms(value, "Records[0]")


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"]))),
    st.text(alphabet='0123456789abcdefT:.+-Z"%', max_size=40),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
VALIDATORS: dict[str, Callable[[object, str], object]] = {
    "bucket_name": fields.bucket_name,
    "etag": fields.etag,
    "version_id": fields.version_id,
    "sequencer": fields.sequencer,
    "size": fields.size,
    "event_time_ms": fields.event_time_ms,
    "object_key": lambda value, where: fields.object_key(value, where, url_encoded=True),
}


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@settings(max_examples=300)
@given(value=ANY_VALUE)
def test_validators_raise_nothing_but_invalid_event_error(name: str, value: object) -> None:
    try:
        result = VALIDATORS[name](value, WHERE)
    except InvalidEventError as exc:
        assert WHERE in str(exc)
        str(exc).encode("utf-8")  # printable in a log line
        return
    if isinstance(result, str):
        result.encode("utf-8")  # valid UTF-8, fit for DynamoDB and headers
