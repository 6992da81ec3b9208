"""The checksum processor on the in-memory object store: digest, sidecar, one sidecar per upload."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from typing import BinaryIO

import pytest

from chalicelib.core.errors import (
    ConfigurationError,
    IncompleteBatchError,
    LeaseLostError,
    PermanentProcessingError,
)
from chalicelib.core.model import IdempotencyScope, ObjectRef, ParsedEvent
from chalicelib.core.ports import UnguardedWork
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from chalicelib.processors import REGISTRY
from chalicelib.processors.checksum import (
    CHUNK_BYTES,
    MAX_S3_KEY_BYTES,
    ChecksumProcessor,
    ChecksumSettings,
    sidecar_key,
)
from tests.fakes import FakeClock, FakeObjectStore, InMemoryLockRepository

SETTINGS = ChecksumSettings(bucket_name="sidecars", prefix="checksums/")
BODY = b"hello, checksum\n" * 1000
UPLOAD = ObjectRef("uploads", "reports/q1 #2.csv", etag="e1")


def store_with(obj: ObjectRef, body: bytes) -> FakeObjectStore:
    store = FakeObjectStore()
    store.put(obj.bucket, obj.key, body, "text/csv")
    return store


def sidecars(store: FakeObjectStore) -> dict[str, dict[str, object]]:
    return {
        key: json.loads(body)
        for (bucket, key), (_, body) in store.objects.items()
        if bucket == SETTINGS.bucket_name
    }


def test_it_writes_the_sha256_and_identity_of_the_upload_as_a_sidecar() -> None:
    store = store_with(UPLOAD, BODY)

    result = ChecksumProcessor(store, store, SETTINGS).process(UPLOAD, UnguardedWork())

    digest = hashlib.sha256(BODY).hexdigest()
    key = "checksums/uploads/reports/q1 #2.csv/e=e1.json"
    assert result.summary == {
        "sha256": digest,
        "size": len(BODY),
        "sidecar": f"s3://sidecars/{key}",
        "written": True,
    }
    assert sidecars(store) == {
        key: {
            "bucket": "uploads",
            "key": "reports/q1 #2.csv",
            "eTag": "e1",
            "versionId": None,
            "size": len(BODY),
            "digest": {"algorithm": "SHA-256", "hex": digest},
        }
    }


def test_a_second_attempt_finds_the_sidecar_written_and_succeeds_without_a_second_one() -> None:
    store = store_with(UPLOAD, BODY)
    processor = ChecksumProcessor(store, store, SETTINGS)

    first = processor.process(UPLOAD, UnguardedWork())
    again = processor.process(UPLOAD, UnguardedWork())

    assert (first.summary["written"], again.summary["written"]) == (True, False)
    assert first.summary["sha256"] == again.summary["sha256"]
    assert len(sidecars(store)) == 1


def test_a_changed_upload_of_the_same_key_gets_its_own_sidecar() -> None:
    store = store_with(UPLOAD, BODY)
    processor = ChecksumProcessor(store, store, SETTINGS)
    processor.process(UPLOAD, UnguardedWork())
    changed = ObjectRef(UPLOAD.bucket, UPLOAD.key, etag="e2")
    store.put(UPLOAD.bucket, UPLOAD.key, b"changed", "text/csv")

    processor.process(changed, UnguardedWork())

    found = sidecars(store)
    assert sorted(found) == [
        "checksums/uploads/reports/q1 #2.csv/e=e1.json",
        "checksums/uploads/reports/q1 #2.csv/e=e2.json",
    ]
    assert found["checksums/uploads/reports/q1 #2.csv/e=e1.json"]["size"] == len(BODY)


def test_the_version_names_the_sidecar_when_the_upload_has_one() -> None:
    versioned = ObjectRef("uploads", "a.txt", etag="e1", version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3")
    assert sidecar_key("out/", versioned) == "out/uploads/a.txt/v=3HL4kqtJlcpXroDTDmJ+rmSpXd3.json"


def test_a_key_too_long_for_s3_is_replaced_by_its_digest() -> None:
    long = ObjectRef("uploads", "k" * 1024, etag="e1")
    key = sidecar_key("checksums/", long)
    digest = hashlib.sha256(long.key.encode()).hexdigest()
    assert key == f"checksums/#sha256/uploads/{digest}/e=e1.json"
    assert len(key.encode()) <= MAX_S3_KEY_BYTES


def test_an_upload_with_neither_version_nor_etag_fails_permanently() -> None:
    with pytest.raises(PermanentProcessingError, match="neither versionId nor eTag"):
        sidecar_key("", ObjectRef("uploads", "a.txt"))


class ReadRecorder(FakeObjectStore):
    """Records the size of every read, to show the body is streamed in bounded chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []

    def open(self, obj: ObjectRef) -> BinaryIO:
        body = self.objects[(obj.bucket, obj.key)][1]
        reads = self.reads

        class Stream(io.BytesIO):
            def read(self, size: int | None = -1) -> bytes:
                chunk = super().read(size)
                reads.append(len(chunk))
                return chunk

        return Stream(body)


def test_the_body_is_read_in_bounded_chunks() -> None:
    store = ReadRecorder()
    body = b"x" * (CHUNK_BYTES * 2 + 5)
    store.put(UPLOAD.bucket, UPLOAD.key, body, "application/octet-stream")

    result = ChecksumProcessor(store, store, SETTINGS).process(UPLOAD, UnguardedWork())

    assert store.reads == [CHUNK_BYTES, CHUNK_BYTES, 5, 0]
    assert result.summary["sha256"] == hashlib.sha256(body).hexdigest()


class LosesLeaseAfter:
    """A work context whose lease is taken over after `checks` calls to check()."""

    def __init__(self, checks: int) -> None:
        self.remaining = checks

    @property
    def request_id(self) -> str:
        return "paused-worker"

    @property
    def lost(self) -> bool:
        return self.remaining < 0

    def check(self) -> None:
        self.remaining -= 1
        if self.remaining < 0:
            raise LeaseLostError("taken over")


def test_a_worker_that_loses_its_lease_stops_reading_and_writes_nothing() -> None:
    store = ReadRecorder()
    store.put(UPLOAD.bucket, UPLOAD.key, b"x" * (CHUNK_BYTES * 3), "application/octet-stream")

    with pytest.raises(LeaseLostError):
        ChecksumProcessor(store, store, SETTINGS).process(UPLOAD, LosesLeaseAfter(1))

    assert store.reads == [CHUNK_BYTES, CHUNK_BYTES]
    assert sidecars(store) == {}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "CHECKSUM_BUCKET_NAME must be set"),
        ({"CHECKSUM_BUCKET_NAME": "s", "CHECKSUM_PREFIX": "p" * 300}, "CHECKSUM_PREFIX is longer"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ChecksumSettings.from_environ(environ)


def test_the_prefix_defaults_and_is_normalised_to_a_folder() -> None:
    assert ChecksumSettings.from_environ({"CHECKSUM_BUCKET_NAME": "s"}).prefix == "checksums/"
    assert ChecksumSettings.from_environ(
        {"CHECKSUM_BUCKET_NAME": "s", "CHECKSUM_PREFIX": "/out"}
    ) == ChecksumSettings("s", "out/")


# Through the pipeline: retries and takeovers leave exactly one sidecar per upload.


class LostResponseStore(FakeObjectStore):
    """The first conditional write takes effect, but its response never arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = True

    def put_if_absent(self, bucket: str, key: str, body: bytes, content_type: str) -> bool:
        written = super().put_if_absent(bucket, key, body, content_type)
        if self.lose_next:
            self.lose_next = False
            raise ConnectionError("response lost after the write took effect")
        return written


def pipeline(
    store: FakeObjectStore, locks: InMemoryLockRepository, clock: FakeClock
) -> IdempotentPipeline:
    return IdempotentPipeline(
        locks=locks,
        processor=ChecksumProcessor(store, store, SETTINGS),
        clock=clock,
        scope=IdempotencyScope.CONTENT,
        lease=LeasePolicy(60),
        record_ttl_days=30,
        logger=logging.getLogger("tests.checksum"),
    )


def test_a_write_whose_response_was_lost_is_found_written_by_the_retry() -> None:
    store, locks, clock = LostResponseStore(), InMemoryLockRepository(), FakeClock()
    store.put(UPLOAD.bucket, UPLOAD.key, BODY, "text/csv")
    event = ParsedEvent(objects=[UPLOAD])

    with pytest.raises(IncompleteBatchError, match="retry needed"):
        pipeline(store, locks, clock).handle(event, Invocation("first"))
    retried = pipeline(store, locks, clock).handle(event, Invocation("retry"))

    assert [r.outcome.value for r in retried.records] == ["processed"]
    assert len(sidecars(store)) == 1
    assert store.conditional_puts == [
        ("sidecars", "checksums/uploads/reports/q1 #2.csv/e=e1.json", True),
        ("sidecars", "checksums/uploads/reports/q1 #2.csv/e=e1.json", False),
    ]


def test_a_paused_worker_and_the_one_that_took_over_leave_one_sidecar() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    event = ParsedEvent(objects=[UPLOAD])
    outcomes: list[str] = []

    class PausingStore(FakeObjectStore):
        """After the paused worker's write, its lease expires and another worker takes over."""

        def put_if_absent(self, bucket: str, key: str, body: bytes, content_type: str) -> bool:
            written = super().put_if_absent(bucket, key, body, content_type)
            if len(self.conditional_puts) == 1:
                clock.advance(61_000)
                taken = pipeline(self, locks, clock).handle(event, Invocation("second"))
                outcomes.extend(r.outcome.value for r in taken.records)
            return written

    store = PausingStore()
    store.put(UPLOAD.bucket, UPLOAD.key, BODY, "text/csv")

    paused = pipeline(store, locks, clock).handle(event, Invocation("paused"))

    assert outcomes == ["taken_over"]
    assert [r.outcome.value for r in paused.records] == ["lease_lost"]
    assert [written for _, _, written in store.conditional_puts] == [True, False]
    assert len(sidecars(store)) == 1


def test_the_registry_builds_checksum_from_its_own_settings() -> None:
    configured = REGISTRY.configure("checksum", {"CHECKSUM_BUCKET_NAME": "sidecars"})
    assert configured.settings == SETTINGS
    assert configured.plugin.tables == ()
    assert [(a.action, a.setting) for a in configured.plugin.actions] == [
        ("s3:PutObject", "CHECKSUM_BUCKET_NAME")
    ]
