"""The extension point: everything a processor module declares about itself, in one value.

A processor module defines `PLUGIN = ProcessorPlugin(...)` and joins the application with one
line in chalicelib/processors/__init__.py. From the plugin the application takes the settings
the processor reads (validated when the pipeline is first built), how to build it from the
resources the composition root offers, the tables it needs (`s3once create-tables`), the AWS
actions it needs beyond reading the upload (the stage policy) and its sample files (`s3once run`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from chalicelib.core.ports import ObjectStore, Processor, Release, Settled

# The declarations are named tuples, not dataclasses: immutable and hashable alike, and a
# tenth of the cost to define at import (each dataclass compiles its methods from source).

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SettingsT = TypeVar("SettingsT")


class ObjectWriter(Protocol):
    def put_if_absent(self, bucket: str, key: str, body: bytes, content_type: str) -> bool:
        """Write the object unless one exists under `key` (S3's `If-None-Match: *`).

        False means the key was already written: by this upload's earlier attempt, when the
        key is derived from the upload. Any other failure raises.
        """
        ...


class CompletionCommit(Protocol):
    """Effects committed together with the completion of the lock record (fenced)."""

    def commit(self, release: Release) -> Settled: ...


class Resources(NamedTuple):
    """What the composition root offers a processor: clients are created once per container."""

    objects: ObjectStore  # reads pinned to the exact upload an event names
    outputs: ObjectWriter  # conditional writes to S3
    dynamodb: DynamoDBClient
    lock_table_name: str


class TableSpec(NamedTuple):
    """A DynamoDB table the processor needs besides the lock table: partition key `pk`
    (String), on-demand. `setting` is the variable that names it; `ttl_attribute`, if any,
    enables TTL on that attribute. `s3once create-tables` creates it."""

    setting: str
    ttl_attribute: str | None = None


class AwsAction(NamedTuple):
    """An IAM action the processor needs beyond reading the upload, on the resource `setting`
    names (a bucket or a table)."""

    action: str
    setting: str


def no_settings(environ: Mapping[str, str]) -> None:
    """For a processor that reads no settings of its own."""
    return None


class ProcessorPlugin(NamedTuple, Generic[SettingsT]):
    """One processor, declared by its module. `settings` returns a frozen (hashable) value and
    raises ConfigurationError naming the variable at fault."""

    name: str
    settings: Callable[[Mapping[str, str]], SettingsT]
    build: Callable[[SettingsT, Resources], Processor]
    tables: tuple[TableSpec, ...] = ()
    actions: tuple[AwsAction, ...] = ()
    samples: str = "samples/uploads"  # relative to the project directory
    completion_commit: Callable[[SettingsT, Resources], CompletionCommit | None] | None = None


class ConfiguredProcessor(NamedTuple):
    """A plugin with its settings validated: what the pipeline is built from (hashable)."""

    plugin: ProcessorPlugin[Any]
    settings: Any

    @property
    def name(self) -> str:
        return self.plugin.name

    def build(self, resources: Resources) -> Processor:
        return self.plugin.build(self.settings, resources)

    def completion_commit(self, resources: Resources) -> CompletionCommit | None:
        if self.plugin.completion_commit is None:
            return None
        return self.plugin.completion_commit(self.settings, resources)
