"""Create the tables the application needs, with the schema its adapters rely on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LOCK_TABLE_TTL_ATTRIBUTE = "expires_at"
# The operator's indexes on the lock table (docs/operating.md says what they cost).
# by-status: the FAILED and IN_PROGRESS records, newest first, without reading the others.
STATUS_INDEX = "by-status"
# by-object: every record of one bucket/key (each processor, scope and identity).
OBJECT_INDEX = "by-object"
STATUS_INDEX_ATTRIBUTES = ["bucket", "key", "attempts", "owner", "lease_expires_at", "last_error"]
LOCK_TABLE_INDEXES: dict[str, dict[str, Any]] = {
    STATUS_INDEX: {
        "IndexName": STATUS_INDEX,
        "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "updated_at", "KeyType": "RANGE"},
        ],
        "Projection": {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": STATUS_INDEX_ATTRIBUTES,
        },
    },
    OBJECT_INDEX: {
        "IndexName": OBJECT_INDEX,
        "KeySchema": [
            {"AttributeName": "key", "KeyType": "HASH"},
            {"AttributeName": "bucket", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    },
}
_INDEX_ATTRIBUTES: list[Any] = [
    {"AttributeName": "status", "AttributeType": "S"},
    {"AttributeName": "updated_at", "AttributeType": "N"},
    {"AttributeName": "key", "AttributeType": "S"},
    {"AttributeName": "bucket", "AttributeType": "S"},
]


def create_lock_table(client: DynamoDBClient, name: str, indexes: bool = True) -> bool:
    """Create the lock table (pk: String, on-demand, TTL on `expires_at`, and unless told
    otherwise the operator's indexes); False if it existed (then any missing index is added)."""
    wanted = list(LOCK_TABLE_INDEXES.values()) if indexes else None
    if not _create_keyed_by_pk(client, name, indexes=wanted):
        if indexes:
            add_missing_indexes(client, name)
        return False
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": LOCK_TABLE_TTL_ATTRIBUTE},
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
    table = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added = []
    for index_name, index in LOCK_TABLE_INDEXES.items():
        if index_name in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=_INDEX_ATTRIBUTES,
            GlobalSecondaryIndexUpdates=[{"Create": index}],  # type: ignore[typeddict-item]
        )
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        added.append(index_name)
    return added


def create_aggregates_table(client: DynamoDBClient, name: str) -> bool:
    """Create the aggregates table (pk: String, on-demand, no TTL); False if it existed.

    One item per UTC hour (`pk` "YYYY-MM-DDTHH") holding counters the access-log processor adds to.
    """
    return _create_keyed_by_pk(client, name)


def _create_keyed_by_pk(
    client: DynamoDBClient, name: str, indexes: list[dict[str, Any]] | None = None
) -> bool:
    """An on-demand table whose partition key is the String `pk`; False if it existed."""
    extra: dict[str, Any] = {}
    if indexes:
        extra["GlobalSecondaryIndexes"] = indexes
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                *(_INDEX_ATTRIBUTES if indexes else []),
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    return True


def required_tables(environment: dict[str, str]) -> list[str]:
    """Names of the tables the app needs under `environment` (a stage's variables): the lock
    table and every table a registered processor declares whose variable the stage sets."""
    from chalicelib.processors import REGISTRY  # the project's, once its directory is on the path

    return [environment["LOCK_TABLE_NAME"], *REGISTRY.tables_named_in(environment)]


def create_required_tables(
    client: DynamoDBClient, environment: dict[str, str], indexes: bool = True
) -> dict[str, bool]:
    """Create every table the app needs; maps each name to True if created, False if it existed."""
    from chalicelib.processors import REGISTRY

    lock_table = environment["LOCK_TABLE_NAME"]
    created = {lock_table: create_lock_table(client, lock_table, indexes)}
    for name, spec in REGISTRY.tables_named_in(environment).items():
        created[name] = _create_keyed_by_pk(client, name)
        if created[name] and spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    return created
