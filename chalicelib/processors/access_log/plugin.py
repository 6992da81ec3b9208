"""The access-log processor as the registry knows it: settings, tables, the counter commit."""

from __future__ import annotations

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.settings import AccessLogSettings
from chalicelib.processors.plugin import AwsAction, ProcessorPlugin, Resources, TableSpec


def _build(settings: AccessLogSettings, resources: Resources) -> AccessLogProcessor:
    return AccessLogProcessor(resources.objects, settings)


def _counters(settings: AccessLogSettings, resources: Resources) -> FencedCounterCommit:
    return FencedCounterCommit(
        resources.dynamodb, resources.lock_table_name, settings.aggregates_table_name
    )


PLUGIN = ProcessorPlugin(
    name=AccessLogProcessor.name,
    settings=AccessLogSettings.from_environ,
    build=_build,
    tables=(TableSpec("AGGREGATES_TABLE_NAME"),),
    actions=(
        AwsAction("dynamodb:UpdateItem", "AGGREGATES_TABLE_NAME"),
        AwsAction("dynamodb:GetItem", "LOCK_TABLE_NAME"),
    ),
    samples="samples/access-logs",
    completion_commit=_counters,
)
