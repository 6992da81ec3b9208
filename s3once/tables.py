"""Create the tables the application needs, with the schema its adapters rely on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LOCK_TABLE_TTL_ATTRIBUTE = "expires_at"


def create_lock_table(client: DynamoDBClient, name: str) -> bool:
    """Create the lock table (pk: String, on-demand, TTL on `expires_at`); False if it existed."""
    if not _create_keyed_by_pk(client, name):
        return False
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": LOCK_TABLE_TTL_ATTRIBUTE},
    )
    return True


def create_aggregates_table(client: DynamoDBClient, name: str) -> bool:
    """Create the aggregates table (pk: String, on-demand, no TTL); False if it existed.

    One item per UTC hour (`pk` "YYYY-MM-DDTHH") holding counters the access-log processor adds to.
    """
    return _create_keyed_by_pk(client, name)


def _create_keyed_by_pk(client: DynamoDBClient, name: str) -> bool:
    """An on-demand table whose partition key is the String `pk`; False if it existed."""
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
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


def create_required_tables(client: DynamoDBClient, environment: dict[str, str]) -> dict[str, bool]:
    """Create every table the app needs; maps each name to True if created, False if it existed."""
    from chalicelib.processors import REGISTRY

    created = {
        environment["LOCK_TABLE_NAME"]: create_lock_table(client, environment["LOCK_TABLE_NAME"])
    }
    for name, spec in REGISTRY.tables_named_in(environment).items():
        created[name] = _create_keyed_by_pk(client, name)
        if created[name] and spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    return created
