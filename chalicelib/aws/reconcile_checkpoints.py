"""The scheduled reconciliation's checkpoint: one item in the lock table, under a `pk` no lock
can have (`chalicelib.core.keys.checkpoint_key`), expiring by the table's TTL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chalicelib.reconcile.checkpoint import Checkpoint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

VALUE_ATTRIBUTE = "checkpoint"
TTL_ATTRIBUTE = "expires_at"  # the lock table's TTL attribute, epoch seconds


class DynamoDBCheckpoints:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def load(self, pk: str) -> Checkpoint | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None or VALUE_ATTRIBUTE not in item:
            return None
        value = json.loads(str(item[VALUE_ATTRIBUTE].get("S", "{}")))
        return Checkpoint.from_json(value, f"the checkpoint item {pk}")

    def save(self, pk: str, checkpoint: Checkpoint, expires_at_s: int) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": pk},
                VALUE_ATTRIBUTE: {"S": json.dumps(checkpoint.to_json(), sort_keys=True)},
                TTL_ATTRIBUTE: {"N": str(expires_at_s)},
            },
        )
