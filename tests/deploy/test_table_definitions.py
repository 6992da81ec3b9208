"""The deployment templates create exactly the tables `s3once create-tables` creates: each is
read into one shape (key, attribute types, indexes with their keys and projections, TTL,
billing) and compared attribute by attribute, so the three cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.decode import decode_str

from chalicelib.aws.lock_table import TTL_ATTRIBUTE, counter_table_definition, table_definition
from chalicelib.processors import REGISTRY
from tests.deploy.stages import PROJECT_DIR

CLOUDFORMATION = PROJECT_DIR / "infra" / "cloudformation" / "resources.yaml"
TERRAFORM = PROJECT_DIR / "infra" / "terraform" / "s3-once.tf.json"


def shape(
    key: list[tuple[str, str]],
    attributes: dict[str, str],
    indexes: dict[str, dict[str, Any]],
    ttl: str | None,
    billing: str,
) -> dict[str, Any]:
    return {
        "key": key,
        "attributes": attributes,
        "indexes": indexes,
        "ttl": ttl,
        "billing": billing,
    }


def from_create_table(definition: dict[str, Any], ttl: str | None) -> dict[str, Any]:
    """What `s3once create-tables` sends: CreateTable's arguments, then TTL on `ttl`."""
    return shape(
        key=[(k["AttributeName"], k["KeyType"]) for k in definition["KeySchema"]],
        attributes={
            a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]
        },
        indexes={
            index["IndexName"]: {
                "key": [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]],
                "projection": index["Projection"]["ProjectionType"],
                "non_key": sorted(index["Projection"].get("NonKeyAttributes", [])),
            }
            for index in definition.get("GlobalSecondaryIndexes", [])
        },
        ttl=ttl,
        billing=definition["BillingMode"],
    )


def from_cloudformation(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource["Properties"]
    ttl = properties.get("TimeToLiveSpecification")
    return from_create_table(
        {**properties, "TableName": "-"},
        ttl["AttributeName"] if ttl and ttl["Enabled"] else None,
    )


def from_terraform(resource: dict[str, Any]) -> dict[str, Any]:
    def key(hash_key: str, range_key: str | None) -> list[tuple[str, str]]:
        return [(hash_key, "HASH")] + ([(range_key, "RANGE")] if range_key else [])

    ttl = resource.get("ttl")
    return shape(
        key=key(resource["hash_key"], resource.get("range_key")),
        attributes={a["name"]: a["type"] for a in resource["attribute"]},
        indexes={
            index["name"]: {
                "key": key(index["hash_key"], index.get("range_key")),
                "projection": index["projection_type"],
                "non_key": sorted(index.get("non_key_attributes", [])),
            }
            for index in resource.get("global_secondary_index", [])
        },
        ttl=ttl["attribute_name"] if ttl and ttl["enabled"] else None,
        billing=resource["billing_mode"],
    )


def cloudformation() -> dict[str, Any]:
    template, errors = decode_str(CLOUDFORMATION.read_text(encoding="utf-8"))
    assert not errors and template is not None
    resources: dict[str, Any] = template["Resources"]
    return resources


def terraform() -> dict[str, Any]:
    tables: dict[str, Any] = json.loads(TERRAFORM.read_text(encoding="utf-8"))["resource"][
        "aws_dynamodb_table"
    ]
    return tables


def aggregates_ttl() -> str | None:
    [spec] = REGISTRY.plugin("access-log").tables
    return spec.ttl_attribute


EXPECTED = {
    "lock table": from_create_table(table_definition("locks"), TTL_ATTRIBUTE),
    "aggregates table": from_create_table(counter_table_definition("aggregates"), aggregates_ttl()),
}


@pytest.mark.parametrize(
    ("table", "template", "resource"),
    [
        ("lock table", "CloudFormation", "LockTable"),
        ("aggregates table", "CloudFormation", "AggregatesTable"),
        ("lock table", "Terraform", "locks"),
        ("aggregates table", "Terraform", "aggregates"),
    ],
)
def test_the_template_creates_the_table_create_tables_creates(
    table: str, template: str, resource: str
) -> None:
    if template == "CloudFormation":
        deployed = from_cloudformation(cloudformation()[resource])
    else:
        deployed = from_terraform(terraform()[resource])
    expected = EXPECTED[table]

    for attribute in expected:
        assert deployed[attribute] == expected[attribute], f"{template} {resource}: {attribute}"


def test_the_comparison_sees_a_missing_index_a_changed_projection_and_a_lost_ttl() -> None:
    expected = EXPECTED["lock table"]
    locks = terraform()["locks"]
    without_index = {**locks, "global_secondary_index": locks["global_secondary_index"][1:]}
    narrower = json.loads(json.dumps(locks))
    narrower["global_secondary_index"][0]["non_key_attributes"].remove("last_error")
    no_ttl = {**locks, "ttl": {"attribute_name": "expires_at", "enabled": False}}

    for broken in (without_index, narrower, no_ttl):
        assert from_terraform(broken) != expected
    assert from_terraform(locks) == expected
