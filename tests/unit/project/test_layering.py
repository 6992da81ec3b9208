"""The folders are the layers (docs/layout.md): this test holds what each may import.

Every module of `app.py`, `chalicelib/` and `s3once/` is parsed, not imported: imports at module
level, inside functions, under `TYPE_CHECKING` and through `importlib.import_module("...")` all
count. A violation names the module, the line and what it imports.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]
AWS_RUNTIME = ("boto3", "botocore")
AWS_STUBS = ("mypy_boto3_",)
MAX_MODULES_PER_FOLDER = 10
MAX_LINES_PER_MODULE = 350

# Named exceptions, each argued in docs/layout.md.
ALLOWED = {
    # The access-log plugin declares its completion commit: the fenced counter adapter.
    ("chalicelib/processors/access_log/plugin.py", "chalicelib.aws.dynamodb_counters"),
    # HeadObject's answer is normalised by the same field readers as an event's fields.
    ("chalicelib/aws/s3_current.py", "chalicelib.routes.fields"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing file, relative to the project
    line: int
    name: str  # what it imports, dotted
    in_function: bool
    type_checking: bool


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[:-1])


def imports_of(path: Path, relative: str | None = None) -> Iterator[Import]:
    """Every import in the file at `path`, named as the project module `relative`."""
    relative = relative or path.relative_to(PROJECT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            function = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(relative, child.lineno, alias.name, function, type_checking)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = _package_of(relative).split(".")
                    package = package[: len(package) - child.level + 1]
                    base = ".".join([*package, base] if base else package)
                for alias in child.names:
                    # `from chalicelib.routes import fields` imports chalicelib.routes.fields.
                    yield Import(
                        relative, child.lineno, f"{base}.{alias.name}", function, type_checking
                    )
            elif (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute | ast.Name)
                and (getattr(child.func, "attr", None) or getattr(child.func, "id", None))
                == "import_module"
                and child.args
                and isinstance(child.args[0], ast.Constant)
                and isinstance(child.args[0].value, str)
            ):
                yield Import(relative, child.lineno, child.args[0].value, function, type_checking)
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    yield from visit(ast.Module(body=[statement], type_ignores=[]), function, True)
                for statement in child.orelse:
                    yield from visit(
                        ast.Module(body=[statement], type_ignores=[]), function, type_checking
                    )
            else:
                yield from visit(child, function, type_checking)

    yield from visit(tree, False, False)


def modules(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        path = PROJECT / root
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def _starts(name: str, prefixes: tuple[str, ...]) -> bool:
    """`name` is one of the packages `prefixes` or inside one (a trailing `_` is a family)."""
    return any(
        name.startswith(prefix) if prefix.endswith("_") else name.split(".")[0] == prefix
        for prefix in prefixes
    )


def _is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names or name.startswith("__future__")


def _layer(module: str) -> str:
    """The layer of a project module or file: core, aws, routes, processors, composition, ..."""
    parts = module.replace("/", ".").removesuffix(".py").split(".")
    if parts[0] == "chalicelib" and len(parts) > 1:
        return parts[1]
    return parts[0]


def _processor_of(module: str) -> str | None:
    """Which processor a module under chalicelib/processors belongs to (None: the shared ones)."""
    parts = module.replace("/", ".").removesuffix(".py").split(".")
    if parts[:2] != ["chalicelib", "processors"] or len(parts) < 3:
        return None
    shared = parts[2] in ("plugin", "registry", "__init__")
    exists = (PROJECT / "chalicelib" / "processors" / parts[2]).is_dir() or (
        PROJECT / "chalicelib" / "processors" / f"{parts[2]}.py"
    ).is_file()
    return None if shared or not exists else parts[2]


def violation(imp: Import) -> str | None:
    """What `imp` breaks, or None."""
    where, name, layer = imp.module, imp.name, _layer(imp.module)
    if any(where == w and (name == a or name.startswith(a + ".")) for w, a in ALLOWED):
        return None
    deployed = where == "app.py" or where.startswith("chalicelib/")
    project = name.startswith("chalicelib.")
    checks = (
        (
            deployed and _starts(name, ("s3once", "tests", "benchmarks", "scripts")),
            "deployed code imports the tool, tests or benchmarks",
        ),
        (
            deployed and _starts(name, AWS_RUNTIME) and layer not in ("aws", "composition"),
            "only chalicelib/aws/ and chalicelib/composition.py may import boto3 or botocore",
        ),
        (
            deployed
            and _starts(name, AWS_STUBS)
            and layer not in ("aws", "composition")
            and not imp.type_checking,
            "the AWS type stubs are imported for typing only outside the adapters",
        ),
        (
            layer == "core"
            and deployed
            and not (_is_stdlib(name) or name.startswith("chalicelib.core.")),
            "the core imports only the standard library and the core",
        ),
        (
            layer == "routes" and project and _layer(name) not in ("core", "routes"),
            "a route imports only the core and the routes",
        ),
        (
            layer == "processors" and project and _layer(name) not in ("core", "processors"),
            "a processor imports only the core and the processors' shared modules",
        ),
        (
            layer == "processors"
            and where != "chalicelib/processors/__init__.py"
            and _processor_of(name) not in (None, _processor_of(where)),
            "a processor never imports another processor",
        ),
        (
            layer == "aws"
            and deployed
            and project
            and _layer(name) not in ("core", "aws", "reconcile"),
            "an adapter imports only the core, the adapters and the reconciliation's values",
        ),
        (
            layer == "reconcile" and project and _layer(name) not in ("core", "reconcile"),
            "the reconciliation imports only the core and itself",
        ),
        (
            where.startswith("s3once/")
            and _starts(name, ("chalicelib", "app"))
            and not (imp.in_function or imp.type_checking),
            "s3once imports the project's code only inside functions or for typing",
        ),
    )
    return next((rule for broken, rule in checks if broken), None)


def test_every_module_imports_only_what_its_layer_may() -> None:
    found = [
        f"{imp.module}:{imp.line} imports {imp.name}: {problem}"
        for path in modules("app.py", "chalicelib", "s3once")
        for imp in imports_of(path)
        if (problem := violation(imp))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "name", "broken"),
    [
        ("chalicelib/core/service.py", "boto3", True),
        ("chalicelib/core/service.py", "chalicelib.aws.dynamodb_lock", True),
        ("chalicelib/core/service.py", "chalice.app", True),
        ("chalicelib/core/service.py", "chalicelib.core.ports", False),
        ("chalicelib/routes/sqs.py", "chalicelib.processors.registry", True),
        ("chalicelib/routes/sqs.py", "botocore.exceptions", True),
        ("chalicelib/processors/checksum.py", "chalicelib.processors.access_log.errors", True),
        ("chalicelib/processors/checksum.py", "chalicelib.processors.plugin", False),
        (
            "chalicelib/processors/access_log/reader.py",
            "chalicelib.processors.access_log.limits",
            False,
        ),
        ("chalicelib/processors/content_type.py", "chalicelib.aws.s3_objects", True),
        ("chalicelib/aws/s3_objects.py", "chalicelib.routes.sqs", True),
        ("chalicelib/aws/inventory_reports.py", "chalicelib.reconcile.manifest", False),
        ("chalicelib/reconcile/scan.py", "chalicelib.aws.lock_lookup", True),
        ("chalicelib/reconcile/scan.py", "chalicelib.routes.fields", True),
        ("chalicelib/aws/dynamodb_lock.py", "botocore.exceptions", False),
        ("app.py", "boto3", True),
        ("app.py", "s3once.cli", True),
        ("chalicelib/composition.py", "mypy_boto3_dynamodb.client", False),
        ("chalicelib/processors/checksum.py", "mypy_boto3_s3.client", True),
    ],
)
def test_the_rules_catch_what_they_name(module: str, name: str, broken: bool) -> None:
    assert (violation(Import(module, 1, name, False, False)) is not None) is broken


def test_the_tool_imports_the_project_only_lazily() -> None:
    eager = Import("s3once/commands/status.py", 3, "chalicelib.core.keys", False, False)
    lazy = Import("s3once/commands/status.py", 30, "chalicelib.core.keys", True, False)
    assert violation(eager) is not None
    assert violation(lazy) is None


def test_imports_are_found_in_functions_type_checking_and_import_module(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "if TYPE_CHECKING:\n"
        "    import boto3\n"
        "def late():\n"
        "    from chalicelib.aws import dynamodb_lock\n"
        "    return importlib.import_module('chalice.app')\n",
        encoding="utf-8",
    )
    imports = list(imports_of(source, "chalicelib/core/probe.py"))
    found = {(i.name, i.in_function, i.type_checking) for i in imports}
    assert ("boto3", False, True) in found
    assert ("chalicelib.aws.dynamodb_lock", True, False) in found
    assert ("chalice.app", True, False) in found
    assert len([i for i in imports if violation(i)]) == 3


def test_no_folder_or_module_outgrows_the_house_limits() -> None:
    folders: dict[Path, int] = {}
    too_long = []
    for path in modules("app.py", "chalicelib", "s3once"):
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES_PER_MODULE:
            too_long.append(f"{path.relative_to(PROJECT)}: {lines} lines")
    crowded = [
        f"{folder.relative_to(PROJECT)}: {count} modules"
        for folder, count in folders.items()
        if count > MAX_MODULES_PER_FOLDER
    ]
    assert too_long == []
    assert crowded == []
