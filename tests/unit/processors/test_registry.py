"""The processor registry: names, lazy imports, and the messages for a wrong PROCESSOR."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from chalicelib.core.errors import ConfigurationError
from chalicelib.processors import DEFAULT_PROCESSOR, REGISTRY
from chalicelib.processors.plugin import ProcessorPlugin, no_settings
from chalicelib.processors.registry import ProcessorRegistry
from tests.fakes import FakeProcessor


def test_the_registry_lists_every_processor_and_defaults_to_content_type() -> None:
    assert REGISTRY.names() == ("content-type", "access-log", "checksum")
    assert REGISTRY.plugin(None).name == DEFAULT_PROCESSOR == "content-type"


def test_each_registered_module_declares_the_plugin_of_its_name() -> None:
    for name in REGISTRY.names():
        assert REGISTRY.plugin(name).name == name


def test_an_unknown_processor_is_refused_listing_the_registered_ones() -> None:
    with pytest.raises(
        ConfigurationError, match="PROCESSOR='thumbnail' is not one of: content-type, access-log"
    ):
        REGISTRY.from_environ({"PROCESSOR": "thumbnail"})


@pytest.fixture
def module_named() -> Iterator[dict[str, types.ModuleType]]:
    """Fake processor modules, importable by name for the test's duration."""
    modules: dict[str, types.ModuleType] = {}
    yield modules
    for name in modules:
        sys.modules.pop(name, None)


def add_module(modules: dict[str, types.ModuleType], name: str, **attributes: object) -> None:
    module = types.ModuleType(name)
    for attribute, value in attributes.items():
        setattr(module, attribute, value)
    modules[name] = sys.modules[name] = module


def test_a_module_is_imported_only_when_its_processor_is_chosen(
    module_named: dict[str, types.ModuleType],
) -> None:
    registry = ProcessorRegistry(default="one")
    registry.register("one", "tests_fake_processor_one")
    registry.register("two", "tests_fake_processor_two_never_imported")
    plugin = ProcessorPlugin(
        name="one", settings=no_settings, build=lambda _s, _r: FakeProcessor(name="one")
    )
    add_module(module_named, "tests_fake_processor_one", PLUGIN=plugin)

    assert registry.from_environ({}).plugin is plugin
    assert "tests_fake_processor_two_never_imported" not in sys.modules


def test_a_module_without_a_matching_plugin_is_refused_by_name(
    module_named: dict[str, types.ModuleType],
) -> None:
    registry = ProcessorRegistry(default="one")
    registry.register("one", "tests_fake_processor_misnamed")
    misnamed = ProcessorPlugin(
        name="other", settings=no_settings, build=lambda _s, _r: FakeProcessor()
    )
    add_module(module_named, "tests_fake_processor_misnamed", PLUGIN=misnamed)

    with pytest.raises(ConfigurationError, match="must define PLUGIN = ProcessorPlugin"):
        registry.plugin("one")


def test_registering_a_name_twice_is_an_error() -> None:
    registry = ProcessorRegistry(default="one")
    registry.register("one", "a")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("one", "b")
