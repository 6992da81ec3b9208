"""What IAM must allow for the AWS calls the application makes, and whether a policy allows it.

A recorded call names its resources by the setting that named them (`LOCK_TABLE_NAME`,
`APP_BUCKET_NAME`, ...), so calls recorded against the random names of a test run can be
replayed against any stage: the stage's environment turns them into that stage's ARNs.
A resource no setting names (`<unnamed:NAME>`, e.g. an event naming another bucket) stays
outside the stage: the policy must not allow it, so in AWS that call is denied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Any concrete values do: the stage policies leave region and account open on purpose.
REGION = "us-east-1"
ACCOUNT = "123456789012"
_SUPPORTED_STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource"}
UNNAMED_PREFIX = "<unnamed:"


class UnmappedOperationError(Exception):
    """The application made a call this module cannot yet translate into IAM actions."""


class UnsupportedPolicyError(Exception):
    """The policy uses an element this evaluator does not implement, so it cannot judge it."""


@dataclass(frozen=True)
class RecordedCall:
    """One API call the application made, its resources named by the settings that held them."""

    processor: str
    service: str
    operation: str
    params: Mapping[str, Any]
    test: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedCall:
        return cls(
            processor=data["processor"],
            service=data["service"],
            operation=data["operation"],
            params=data["params"],
            test=data.get("test", ""),
        )


@dataclass(frozen=True)
class Permission:
    """An IAM action on one concrete resource ARN, and why it is needed."""

    action: str
    resource: str
    reason: str
    in_stage: bool = True  # False: a resource the stage does not own, which must stay denied


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def required_permissions(call: RecordedCall, environment: Mapping[str, str]) -> list[Permission]:
    """The IAM actions AWS checks for `call`, with the stage's resource names filled in."""
    why = f"{call.service}.{call.operation}" + (f" in {call.test}" if call.test else "")

    def named(setting: str) -> str:
        if setting.startswith(UNNAMED_PREFIX):
            return setting
        if setting not in environment:
            raise UnmappedOperationError(
                f"{why} touched a resource named by {setting!r}, which the stage does not set"
            )
        return environment[setting]

    if call.service == "dynamodb":
        permissions = _dynamodb(call, named, why)
    elif call.service == "s3":
        permissions = _s3(call, named, why)
    else:
        raise UnmappedOperationError(f"no IAM mapping for service {call.service!r} ({why})")
    return [_outside_if_unnamed(permission) for permission in permissions]


def _outside_if_unnamed(permission: Permission) -> Permission:
    start = permission.resource.find(UNNAMED_PREFIX)
    if start < 0:
        return permission
    end = permission.resource.index(">", start)
    name = permission.resource[start + len(UNNAMED_PREFIX) : end]
    resource = permission.resource[:start] + name + permission.resource[end + 1 :]
    return Permission(permission.action, resource, permission.reason, in_stage=False)


_DYNAMODB_SINGLE_TABLE = {
    "UpdateItem": "dynamodb:UpdateItem",
    "PutItem": "dynamodb:PutItem",
    "GetItem": "dynamodb:GetItem",
    "DeleteItem": "dynamodb:DeleteItem",
    "Query": "dynamodb:Query",
    "Scan": "dynamodb:Scan",
    "DescribeTable": "dynamodb:DescribeTable",
}
# A transaction has no IAM action of its own: each item is authorised as its single-item write.
_TRANSACT_WRITE_ITEM = {
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
}
_BATCH_WRITE_REQUEST = {"PutRequest": "dynamodb:PutItem", "DeleteRequest": "dynamodb:DeleteItem"}


def _dynamodb(call: RecordedCall, named: Any, why: str) -> list[Permission]:
    params = call.params
    if call.operation in _DYNAMODB_SINGLE_TABLE:
        action = _DYNAMODB_SINGLE_TABLE[call.operation]
        return [Permission(action, table_arn(named(params["TableName"])), why)]
    if call.operation == "TransactWriteItems":
        permissions = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            table = table_arn(named(body["TableName"]))
            permissions.append(Permission(_TRANSACT_WRITE_ITEM[kind], table, why))
        return permissions
    if call.operation == "TransactGetItems":
        return [
            Permission("dynamodb:GetItem", table_arn(named(item["Get"]["TableName"])), why)
            for item in params["TransactItems"]
        ]
    if call.operation == "BatchWriteItem":
        return [
            Permission(_BATCH_WRITE_REQUEST[kind], table_arn(named(table)), why)
            for table, requests in params["RequestItems"].items()
            for request in requests
            for kind in request
        ]
    if call.operation == "BatchGetItem":
        return [
            Permission("dynamodb:BatchGetItem", table_arn(named(table)), why)
            for table in params["RequestItems"]
        ]
    raise UnmappedOperationError(f"no IAM mapping for dynamodb.{call.operation} ({why})")


def _s3(call: RecordedCall, named: Any, why: str) -> list[Permission]:
    params = call.params
    bucket = named(params["Bucket"])
    if call.operation in ("HeadObject", "GetObject"):
        # Reading a given version is its own action; reading the current object is GetObject.
        read = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
        return [
            Permission(read, object_arn(bucket, params["Key"]), why),
            # Without ListBucket S3 answers 403, not 404, for a missing key: the adapter could
            # no longer tell "gone" (a permanent failure) from "forbidden" (retried, then lost).
            Permission("s3:ListBucket", bucket_arn(bucket), why + ": 404 for a missing key"),
        ]
    if call.operation in ("ListObjectsV2", "ListObjects", "HeadBucket"):
        return [Permission("s3:ListBucket", bucket_arn(bucket), why)]
    if call.operation == "PutObject":
        return [Permission("s3:PutObject", object_arn(bucket, params["Key"]), why)]
    raise UnmappedOperationError(f"no IAM mapping for s3.{call.operation} ({why})")


def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` any one character, nothing else special."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in glob
    )
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def matches(self, action: str, resource: str) -> bool:
        return any(
            _pattern(pattern, case_sensitive=False).fullmatch(action) for pattern in self.actions
        ) and any(
            _pattern(pattern, case_sensitive=True).fullmatch(resource) for pattern in self.resources
        )


@dataclass(frozen=True)
class Policy:
    """An identity policy of Allow/Deny statements with Action and Resource, no conditions."""

    statements: tuple[Statement, ...]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Policy:
        statements = []
        raws: list[Mapping[str, Any]] = (
            [document["Statement"]]
            if isinstance(document["Statement"], Mapping)
            else list(document["Statement"])
        )
        for raw in raws:
            unsupported = set(raw) - _SUPPORTED_STATEMENT_KEYS
            if unsupported:
                raise UnsupportedPolicyError(f"statement uses {sorted(unsupported)}")
            if raw["Effect"] not in ("Allow", "Deny"):
                raise UnsupportedPolicyError(f"Effect {raw['Effect']!r}")
            statements.append(
                Statement(
                    raw["Effect"], tuple(_as_list(raw["Action"])), tuple(_as_list(raw["Resource"]))
                )
            )
        return cls(tuple(statements))

    def allows(self, action: str, resource: str) -> bool:
        matching = [s for s in self.statements if s.matches(action, resource)]
        return any(s.effect == "Allow" for s in matching) and not any(
            s.effect == "Deny" for s in matching
        )

    def grants(self) -> Iterable[tuple[str, str]]:
        """Every (action, resource pattern) pair an Allow statement names."""
        for statement in self.statements:
            if statement.effect == "Allow":
                for action in statement.actions:
                    for resource in statement.resources:
                        yield action, resource


@dataclass(frozen=True)
class Verdict:
    denied: list[Permission]  # needed by the code, not allowed by the policy
    unused: list[tuple[str, str]]  # allowed by the policy, needed by nothing
    wildcards: list[str]  # statements that grant `*` actions or resources
    outside: list[Permission]  # calls on resources the stage does not own that it would allow

    @property
    def proven(self) -> bool:
        return not (self.denied or self.unused or self.wildcards or self.outside)

    def explain(self) -> str:
        lines = [f"denied: {p.action} on {p.resource} (needed by {p.reason})" for p in self.denied]
        lines += [f"unused: {action} on {resource}" for action, resource in self.unused]
        lines += [f"wildcard: {grant}" for grant in self.wildcards]
        lines += [
            f"outside the stage yet allowed: {p.action} on {p.resource}" for p in self.outside
        ]
        return "\n".join(lines)


def judge(policy: Policy, needed: Iterable[Permission]) -> Verdict:
    """Least privilege, both ways: everything needed is allowed, everything allowed is needed,
    and what the code tries on resources outside the stage is not allowed."""
    requested = list(needed)
    needed = [p for p in requested if p.in_stage]
    outside = [p for p in requested if not p.in_stage and policy.allows(p.action, p.resource)]
    denied = [p for p in needed if not policy.allows(p.action, p.resource)]
    denied = list({(p.action, p.resource): p for p in denied}.values())
    unused = []
    for action, resource in policy.grants():
        used = any(
            _pattern(action, case_sensitive=False).fullmatch(p.action)
            and _pattern(resource, case_sensitive=True).fullmatch(p.resource)
            for p in needed
        )
        if not used:
            unused.append((action, resource))
    wildcards = [
        f"{action} on {resource}"
        for action, resource in policy.grants()
        if "*" in action or resource == "*"
    ]
    return Verdict(denied, unused, wildcards, outside)
