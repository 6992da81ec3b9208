"""Processors by name, imported only when chosen: a cold start loads the configured one alone."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from chalicelib.core.errors import ConfigurationError
from chalicelib.processors.plugin import ConfiguredProcessor, ProcessorPlugin, TableSpec

PROCESSOR_VARIABLE = "PROCESSOR"


class ProcessorRegistry:
    def __init__(self, default: str) -> None:
        self.default = default
        self._modules: dict[str, str] = {}

    def register(self, name: str, module: str) -> None:
        """Make the processor `name`, declared as `PLUGIN` in `module`, available."""
        if name in self._modules:
            raise ValueError(f"processor {name!r} is registered twice")
        self._modules[name] = module

    def names(self) -> tuple[str, ...]:
        return tuple(self._modules)

    def plugin(self, name: str | None) -> ProcessorPlugin[Any]:
        """Import the module of `name` (the default when None) and return its plugin."""
        name = name or self.default
        if name not in self._modules:
            raise ConfigurationError(
                f"{PROCESSOR_VARIABLE}={name!r} is not one of: {', '.join(self._modules)}"
            )
        module = importlib.import_module(self._modules[name])
        plugin = getattr(module, "PLUGIN", None)
        if not isinstance(plugin, ProcessorPlugin) or plugin.name != name:
            raise ConfigurationError(
                f"{self._modules[name]} must define PLUGIN = ProcessorPlugin(name={name!r}, ...)"
            )
        return plugin

    def configure(self, name: str | None, environ: Mapping[str, str]) -> ConfiguredProcessor:
        """The processor `name` with its own settings read and validated from `environ`."""
        plugin = self.plugin(name)
        return ConfiguredProcessor(plugin, plugin.settings(environ))

    def from_environ(self, environ: Mapping[str, str]) -> ConfiguredProcessor:
        return self.configure(environ.get(PROCESSOR_VARIABLE, "").strip() or None, environ)

    def tables_named_in(self, environ: Mapping[str, str]) -> dict[str, TableSpec]:
        """The tables any processor declares whose variable `environ` sets, by name (imports
        every processor: for tools, not for the function)."""
        return {
            environ[spec.setting].strip(): spec
            for name in self._modules
            for spec in self.plugin(name).tables
            if environ.get(spec.setting, "").strip()
        }
