"""A minimal DynamoDB at the boto3 client level, in memory, that reports every write.

It answers the calls the lock adapter and the counter commit make (`update_item`,
`transact_write_items`, `get_item`) with DynamoDB's conditional semantics: a condition that
fails changes nothing and raises the same `ClientError` botocore raises (with the item when
`ReturnValuesOnConditionCheckFailure=ALL_OLD`), a transaction applies all of its actions or
none. Expressions are parsed once per text (top-level attributes only: what the adapters
write). Each applied or refused write is handed to `on_write(table, key, old, new, kind)`,
where the capacity model prices it. No throttling, no latency: a stand-in for counting.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

Item = dict[str, Any]
Names = Mapping[str, str]
Values = Mapping[str, Any]
# (table, pk, item before, item after, kind, size before, size after)
WriteHook = Callable[[str, str, Item | None, Item | None, str, int, int], None]

_TOKEN = re.compile(r"\s*(<>|<=|>=|[=<>(),+\-]|[#:][A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)")
_KEYWORDS = {"SET", "REMOVE", "ADD", "DELETE"}


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token.upper() != expected:
            raise ValueError(f"expected {expected}, got {token}")
        self.at += 1
        return token

    def operand(self) -> tuple[Any, ...]:
        token = self.take()
        if token.lower() == "if_not_exists":
            self.take("(")
            path = self.take()
            self.take(",")
            fallback = self.operand()
            self.take(")")
            return ("if_not_exists", path, fallback)
        return ("value", token) if token.startswith(":") else ("path", token)

    def value(self) -> tuple[Any, ...]:
        left = self.operand()
        if self.peek() in ("+", "-"):
            return ("arith", self.take(), left, self.operand())
        return left

    def condition(self) -> tuple[Any, ...]:
        node = self.conjunction()
        while (self.peek() or "").upper() == "OR":
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple[Any, ...]:
        node = self.negation()
        while (self.peek() or "").upper() == "AND":
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple[Any, ...]:
        if (self.peek() or "").upper() == "NOT":
            self.take()
            return ("not", self.negation())
        if self.peek() == "(":
            self.take()
            node = self.condition()
            self.take(")")
            return node
        if (self.peek() or "").lower() in ("attribute_exists", "attribute_not_exists"):
            function = self.take().lower()
            self.take("(")
            path = self.take()
            self.take(")")
            return (function, path)
        left = self.operand()
        return ("compare", self.take(), left, self.operand())


@functools.lru_cache(maxsize=256)
def _condition(text: str) -> tuple[Any, ...]:
    return _Reader(_tokens(text)).condition()


@functools.lru_cache(maxsize=256)
def _update(text: str) -> list[tuple[str, str, Any]]:
    reader, clause = _Reader(_tokens(text)), ""
    actions: list[tuple[str, str, Any]] = []
    while reader.peek() is not None:
        if (reader.peek() or "").upper() in _KEYWORDS:
            clause = reader.take().upper()
        elif reader.peek() == ",":
            reader.take()
        elif clause == "SET":
            path = reader.take()
            reader.take("=")
            actions.append(("SET", path, reader.value()))
        elif clause == "REMOVE":
            actions.append(("REMOVE", reader.take(), None))
        elif clause == "ADD":
            actions.append(("ADD", reader.take(), reader.operand()))
        else:
            raise ValueError(f"unsupported clause {clause!r} in {text!r}")
    return actions


def _name(token: str, names: Names) -> str:
    return names[token] if token.startswith("#") else token


def _operand(node: tuple[Any, ...], item: Item, names: Names, values: Values) -> Any:
    if node[0] == "value":
        return values[node[1]]
    if node[0] == "path":
        return item.get(_name(node[1], names))
    if node[0] == "if_not_exists":
        found = item.get(_name(node[1], names))
        return found if found is not None else _operand(node[2], item, names, values)
    left = _operand(node[2], item, names, values)
    right = _operand(node[3], item, names, values)
    total = Decimal(left["N"]) + (Decimal(right["N"]) * (1 if node[1] == "+" else -1))
    return {"N": str(total)}


def _comparable(value: Any) -> Any:
    if "N" in value:
        return Decimal(value["N"])
    return next(iter(value.values()))


def _holds(node: tuple[Any, ...], item: Item, names: Names, values: Values) -> bool:
    kind = node[0]
    if kind == "or":
        return _holds(node[1], item, names, values) or _holds(node[2], item, names, values)
    if kind == "and":
        return _holds(node[1], item, names, values) and _holds(node[2], item, names, values)
    if kind == "not":
        return not _holds(node[1], item, names, values)
    if kind == "attribute_exists":
        return _name(node[1], names) in item
    if kind == "attribute_not_exists":
        return _name(node[1], names) not in item
    left = _operand(node[2], item, names, values)
    right = _operand(node[3], item, names, values)
    if left is None or right is None:
        return node[1] == "<>" and (left is None) != (right is None)
    a, b = _comparable(left), _comparable(right)
    held: bool = {
        "=": a == b,
        "<>": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[node[1]]
    return held


def size(value: Any) -> int:
    """An attribute value's size as DynamoDB counts it (close enough for units per KB)."""
    for kind, inner in value.items():
        if kind == "S":
            return len(inner) if inner.isascii() else len(inner.encode("utf-8"))
        if kind == "N":
            return _number_size(inner)
        if kind == "B":
            return len(inner)
        if kind == "M":
            return 3 + sum(len(k.encode()) + size(v) + 1 for k, v in inner.items())
        if kind == "L":
            return 3 + sum(size(v) + 1 for v in inner)
    return 1


@functools.lru_cache(maxsize=4096)
def _number_size(text: str) -> int:
    return (len(text.lstrip("-").replace(".", "").strip("0")) + 1) // 2 + 1


def item_size(item: Item | None) -> int:
    return sum(len(name.encode()) + size(value) for name, value in (item or {}).items())


def _attribute_size(item: Item, name: str) -> int:
    value = item.get(name)
    return 0 if value is None else len(name) + size(value)


def _apply(update: str, item: Item, names: Names, values: Values) -> tuple[Item, set[str]]:
    """The item after `update`, and the names it changed."""
    new = dict(item)
    changed = set()
    for action, path, operand in _update(update):
        name = _name(path, names)
        changed.add(name)
        if action == "SET":
            new[name] = _operand(operand, item, names, values)
        elif action == "REMOVE":
            new.pop(name, None)
        else:  # ADD to a number
            delta = Decimal(_operand(operand, item, names, values)["N"])
            new[name] = {"N": str(Decimal(item.get(name, {"N": "0"})["N"]) + delta)}
    return new, changed


class MemoryDynamoDB:
    """The stand-in client: tables of items keyed by their String `pk`."""

    def __init__(self, on_write: WriteHook | None = None) -> None:
        self.tables: dict[str, dict[str, Item]] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        self.requests: dict[str, int] = {}
        self._on_write = on_write or (lambda *_: None)

    def _count(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1

    def _old(self, table: str, key: Mapping[str, Any]) -> tuple[str, Item | None]:
        pk = key["pk"]["S"]
        return pk, self.tables.setdefault(table, {}).get(pk)

    def _check(self, request: Mapping[str, Any], old: Item | None) -> bool:
        condition = request.get("ConditionExpression")
        if not condition:
            return True
        names = request.get("ExpressionAttributeNames", {})
        return _holds(
            _condition(condition), old or {}, names, request.get("ExpressionAttributeValues", {})
        )

    def _write(
        self, table: str, request: Mapping[str, Any], pk: str, old: Item | None, kind: str
    ) -> None:
        """Apply `request` to the item, keeping its size up to date from the attributes it
        changed, and report the write."""
        base = old or {"pk": {"S": pk}}
        new, changed = _apply(
            request["UpdateExpression"],
            base,
            request.get("ExpressionAttributeNames", {}),
            request.get("ExpressionAttributeValues", {}),
        )
        before = self.sizes.get((table, pk), 0)
        after = (before or _attribute_size(base, "pk")) + sum(
            _attribute_size(new, name) - _attribute_size(base, name) for name in changed
        )
        self.tables[table][pk] = new
        self.sizes[(table, pk)] = after
        self._on_write(table, pk, old, new, kind, before, after)

    def update_item(self, **request: Any) -> dict[str, Any]:
        self._count("UpdateItem")
        table = request["TableName"]
        pk, old = self._old(table, request["Key"])
        if not self._check(request, old):
            held = self.sizes.get((table, pk), 0)
            self._on_write(table, pk, old, old, "refused", held, held)
            error: dict[str, Any] = {
                "Error": {"Code": "ConditionalCheckFailedException", "Message": "refused"}
            }
            if old is not None and request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                error["Item"] = old
            raise ClientError(error, "UpdateItem")  # type: ignore[arg-type]
        self._write(table, request, pk, old, "write")
        return {"Attributes": old} if old and request.get("ReturnValues") == "ALL_OLD" else {}

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        self._count("TransactWriteItems")
        actions = [action["Update"] for action in request["TransactItems"]]
        found = [(action, *self._old(action["TableName"], action["Key"])) for action in actions]
        refused = [not self._check(action, old) for action, _, old in found]
        if any(refused):
            reasons: list[dict[str, Any]] = [
                {"Code": "ConditionalCheckFailed", **({"Item": old} if old else {})}
                if no
                else {"Code": "None"}
                for no, (_, _, old) in zip(refused, found, strict=True)
            ]
            for action, pk, old in found:
                held = self.sizes.get((action["TableName"], pk), 0)
                self._on_write(action["TableName"], pk, old, old, "refused-transaction", held, held)
            codes = ", ".join(str(reason["Code"]) for reason in reasons)
            response: Any = {
                "Error": {
                    "Code": "TransactionCanceledException",
                    "Message": f"Transaction cancelled [{codes}]",
                },
                "CancellationReasons": reasons,
            }
            raise ClientError(response, "TransactWriteItems")
        for action, pk, old in found:
            self._write(action["TableName"], action, pk, old, "transaction")
        return {}

    def get_item(self, **request: Any) -> dict[str, Any]:
        self._count("GetItem")
        pk, old = self._old(request["TableName"], request["Key"])
        held = self.sizes.get((request["TableName"], pk), 0)
        self._on_write(request["TableName"], pk, old, None, "read", held, 0)
        return {"Item": old} if old else {}
