"""The `checksum` processor: the SHA-256 of each upload, written once as a JSON sidecar.

The pattern for an effect outside the lock table: the sidecar's key is derived from the
upload's identity (its versionId, else its eTag), and it is written with S3's conditional
write (`If-None-Match: *`). A retry after a lost response, a worker that took over, or a
paused worker that resumes all write the same key with the same content, and S3 keeps the
first: "already written" (412) is success. A changed upload of the same key has another
identity, so it gets its own sidecar and never overwrites the old one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.core.errors import ConfigurationError, PermanentProcessingError
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ObjectStore, ProcessingResult, WorkContext
from chalicelib.core.settings import required
from chalicelib.processors.plugin import AwsAction, ObjectWriter, ProcessorPlugin, Resources

CHUNK_BYTES = 1024 * 1024  # memory stays bounded by one chunk, whatever the object's size
DEFAULT_PREFIX = "checksums/"
MAX_S3_KEY_BYTES = 1024
SIDECAR_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ChecksumSettings:
    """Where sidecars go. The upload bucket itself will do, under a prefix the function's
    trigger does not cover (or every sidecar would trigger a checksum of its own)."""

    bucket_name: str
    prefix: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ChecksumSettings:
        prefix = environ.get("CHECKSUM_PREFIX", DEFAULT_PREFIX).strip().lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if len(prefix.encode("utf-8")) > MAX_S3_KEY_BYTES // 4:
            raise ConfigurationError(
                f"CHECKSUM_PREFIX is longer than {MAX_S3_KEY_BYTES // 4} bytes"
            )
        return cls(bucket_name=required(environ, "CHECKSUM_BUCKET_NAME"), prefix=prefix)


def sidecar_key(prefix: str, obj: ObjectRef) -> str:
    """`<prefix><bucket>/<key>/<identity>.json`; identity `v=<versionId>` or `e=<eTag>`.

    The identity is the last part and holds no `/`, so two uploads never share a sidecar. A key
    too long for S3 becomes `<prefix>#sha256/<bucket>/<digest of key>/<identity>.json` (no bucket
    name starts with `#`, so the two forms never meet)."""
    if obj.version_id:
        identity = "v=" + obj.version_id
    elif obj.etag:
        identity = "e=" + obj.etag
    else:
        raise PermanentProcessingError(
            f"s3://{obj.bucket}/{obj.key}: the event has neither versionId nor eTag"
        )
    readable = f"{prefix}{obj.bucket}/{obj.key}/{identity}.json"
    if len(readable.encode("utf-8")) <= MAX_S3_KEY_BYTES:
        return readable
    digest = hashlib.sha256(obj.key.encode("utf-8")).hexdigest()
    return f"{prefix}#sha256/{obj.bucket}/{digest}/{identity}.json"


class ChecksumProcessor:
    name = "checksum"

    def __init__(
        self, objects: ObjectStore, outputs: ObjectWriter, settings: ChecksumSettings
    ) -> None:
        self._objects = objects
        self._outputs = outputs
        self._settings = settings

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        key = sidecar_key(self._settings.prefix, obj)
        digest = hashlib.sha256()
        size = 0
        with self._objects.open(obj) as body:
            while chunk := body.read(CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                work.check()  # taken over: stop reading, the new holder writes the sidecar
        sidecar = {
            "bucket": obj.bucket,
            "key": obj.key,
            "eTag": obj.etag,
            "versionId": obj.version_id,
            "size": size,
            "digest": {"algorithm": "SHA-256", "hex": digest.hexdigest()},
        }
        body_bytes = json.dumps(sidecar, sort_keys=True).encode("utf-8")
        written = self._outputs.put_if_absent(
            self._settings.bucket_name, key, body_bytes, SIDECAR_CONTENT_TYPE
        )
        return ProcessingResult(
            {
                "sha256": digest.hexdigest(),
                "size": size,
                "sidecar": f"s3://{self._settings.bucket_name}/{key}",
                "written": written,
            }
        )


def _build(settings: ChecksumSettings, resources: Resources) -> ChecksumProcessor:
    return ChecksumProcessor(resources.objects, resources.outputs, settings)


PLUGIN = ProcessorPlugin(
    name=ChecksumProcessor.name,
    settings=ChecksumSettings.from_environ,
    build=_build,
    actions=(AwsAction("s3:PutObject", "CHECKSUM_BUCKET_NAME"),),
    samples="samples/uploads",
)
