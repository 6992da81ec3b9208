"""Create the tables the application needs, as the lock table's layout defines them
(`chalicelib/aws/lock_table.py`, read from the project operated on)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def create_lock_table(client: DynamoDBClient, name: str, shards: int | None = None) -> bool:
    """Create the lock table (the layout's key, indexes, billing and TTL); False if it existed.
    An existing table gets the indexes it lacks; when open-work is one of them, the records
    that are not COMPLETED are given its key (under `shards`, the layout's default if None)."""
    from chalicelib.aws.lock_table import (
        DEFAULT_OPEN_SHARDS,
        OPEN_INDEX,
        TTL_ATTRIBUTE,
        table_definition,
    )

    if not _create(client, table_definition(name)):
        if OPEN_INDEX in add_missing_indexes(client, name):
            from s3once.aws.migration import open_records_into_index

            wait_until_active(client, name)
            open_records_into_index(client, name, shards or DEFAULT_OPEN_SHARDS)
        return False
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    return True


def lock_table_indexes(client: DynamoDBClient, name: str) -> set[str]:
    """The names of the lock table's ACTIVE global secondary indexes."""
    table = client.describe_table(TableName=name)["Table"]
    return {
        index["IndexName"]
        for index in table.get("GlobalSecondaryIndexes", [])
        if index.get("IndexStatus", "ACTIVE") == "ACTIVE"
    }


def add_missing_indexes(client: DynamoDBClient, name: str) -> list[str]:
    """Add the operator's indexes a table created before them lacks (one at a time, as
    DynamoDB requires); returns their names. DynamoDB fills a new index from the table."""
    from chalicelib.aws.lock_table import attribute_definitions, index_definitions

    table = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added = []
    for index_name, index in index_definitions().items():
        if index_name in present:
            continue
        wait_until_active(client, name)
        client.update_table(
            TableName=name,
            AttributeDefinitions=attribute_definitions([index]),  # type: ignore[arg-type]
            GlobalSecondaryIndexUpdates=[{"Create": index}],  # type: ignore[typeddict-item]
        )
        wait_until_active(client, name)
        added.append(index_name)
    return added


def wait_until_active(client: Any, name: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """Until the table and each of its indexes are ACTIVE (DynamoDB changes one index at a
    time, and fills a new one from the table before it is ACTIVE)."""
    while True:
        table = client.describe_table(TableName=name)["Table"]
        statuses = [table.get("TableStatus", "ACTIVE")]
        statuses += [
            index.get("IndexStatus", "ACTIVE") for index in table.get("GlobalSecondaryIndexes", [])
        ]
        if all(status == "ACTIVE" for status in statuses):
            return
        sleep(1.0)


def create_aggregates_table(client: DynamoDBClient, name: str) -> bool:
    """Create the aggregates table (pk: String, on-demand, no TTL); False if it existed.

    One item per UTC hour (`pk` "YYYY-MM-DDTHH") holding counters the access-log processor adds to.
    """
    from chalicelib.aws.lock_table import counter_table_definition

    return _create(client, counter_table_definition(name))


def _create(client: DynamoDBClient, definition: dict[str, Any]) -> bool:
    """CreateTable with `definition`, waiting until it exists; False if it existed."""
    try:
        client.create_table(**definition)
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=definition["TableName"], WaiterConfig={"Delay": 1}
    )
    return True


def required_tables(environment: dict[str, str]) -> list[str]:
    """Names of the tables the app needs under `environment` (a stage's variables): the lock
    table and every table a registered processor declares whose variable the stage sets."""
    from chalicelib.processors import REGISTRY  # the project's, once its directory is on the path

    return [environment["LOCK_TABLE_NAME"], *REGISTRY.tables_named_in(environment)]


def create_required_tables(
    client: DynamoDBClient, environment: dict[str, str], shards: int | None = None
) -> dict[str, bool]:
    """Create every table the app needs; maps each name to True if created, False if it existed."""
    from chalicelib.processors import REGISTRY

    lock_table = environment["LOCK_TABLE_NAME"]
    created = {lock_table: create_lock_table(client, lock_table, shards)}
    for name, spec in REGISTRY.tables_named_in(environment).items():
        created[name] = create_aggregates_table(client, name)
        if created[name] and spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    return created
