"""Read a Terraform JSON module directory the way Terraform combines its files.

Every `*.tf.json` is one module: blocks from separate files are merged, a resource, variable or
output defined twice is an error, and override files (`override.tf.json`, `*_override.tf.json`)
are applied last. Only the override rules this project relies on are implemented: in a
`terraform` block, `required_version` and each `required_providers` entry replace the original;
in a resource, each attribute the override sets replaces the original's, and overriding a
resource no file defines is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_NAMED_BLOCKS = ("variable", "output", "locals")
_TYPED_BLOCKS = ("resource", "data")


class TerraformModuleError(Exception):
    """The files would not load as one Terraform module."""


def is_override(path: Path) -> bool:
    return path.name == "override.tf.json" or path.name.endswith("_override.tf.json")


def load_module(directory: Path) -> dict[str, Any]:
    files = sorted(directory.glob("*.tf.json"))
    module: dict[str, Any] = {"terraform": {}}
    for path in (p for p in files if not is_override(p)):
        _merge(module, json.loads(path.read_text(encoding="utf-8")), path.name)
    for path in (p for p in files if is_override(p)):
        _override(module, json.loads(path.read_text(encoding="utf-8")), path.name)
    return module


def _merge(module: dict[str, Any], document: dict[str, Any], origin: str) -> None:
    for block, body in document.items():
        if block in _TYPED_BLOCKS:
            for kind, instances in body.items():
                existing = module.setdefault(block, {}).setdefault(kind, {})
                _add(existing, instances, f"{block}.{kind}", origin)
        elif block in _NAMED_BLOCKS:
            _add(module.setdefault(block, {}), body, block, origin)
        elif block == "terraform":
            clash = set(module["terraform"]) & set(body) - {"//"}
            if clash:
                raise TerraformModuleError(f"{origin} repeats terraform settings {sorted(clash)}")
            module["terraform"].update(body)
        else:
            raise TerraformModuleError(f"{origin}: unexpected top-level block {block!r}")


def _add(existing: dict[str, Any], new: dict[str, Any], where: str, origin: str) -> None:
    duplicates = set(existing) & set(new)
    if duplicates:
        raise TerraformModuleError(f"{origin} redefines {where} {sorted(duplicates)}")
    existing.update(new)


def _override(module: dict[str, Any], document: dict[str, Any], origin: str) -> None:
    if not set(document) <= {"terraform", "resource"}:
        raise TerraformModuleError(f"{origin}: only terraform and resource overrides are modelled")
    for kind, instances in document.get("resource", {}).items():
        for name, attributes in instances.items():
            base = module.get("resource", {}).get(kind, {}).get(name)
            if base is None:
                raise TerraformModuleError(f"{origin}: missing base resource {kind}.{name}")
            base.update({key: value for key, value in attributes.items() if key != "//"})
    terraform = document.get("terraform", {})
    target = module["terraform"]
    if "required_version" in terraform:
        target["required_version"] = terraform["required_version"]
    providers = target.setdefault("required_providers", {})
    for name, requirement in terraform.get("required_providers", {}).items():
        providers[name] = requirement


def version_admits(constraint: str, version: str) -> bool:
    """Whether a Terraform version constraint of `>=`, `<`, `<=`, `>`, `=` terms admits it."""

    def parse(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.strip().split("."))

    wanted = parse(version)
    for term in constraint.split(","):
        term = term.strip()
        operator = next(op for op in (">=", "<=", ">", "<", "=") if term.startswith(op))
        bound = parse(term[len(operator) :])
        size = max(len(bound), len(wanted))
        left = wanted + (0,) * (size - len(wanted))
        right = bound + (0,) * (size - len(bound))
        admitted = {
            ">=": left >= right,
            "<=": left <= right,
            ">": left > right,
            "<": left < right,
            "=": left == right,
        }[operator]
        if not admitted:
            return False
    return True
