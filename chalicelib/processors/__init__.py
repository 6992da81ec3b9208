"""Processors: what is done, exactly once in effect, with each uploaded object.

Each processor is one module declaring `PLUGIN` (see plugin.py) and one line here. Modules are
imported only when their processor is configured.
"""

from __future__ import annotations

from chalicelib.processors.registry import ProcessorRegistry

DEFAULT_PROCESSOR = "content-type"

REGISTRY = ProcessorRegistry(default=DEFAULT_PROCESSOR)
REGISTRY.register("content-type", "chalicelib.processors.content_type")
REGISTRY.register("access-log", "chalicelib.processors.access_log.plugin")
REGISTRY.register("checksum", "chalicelib.processors.checksum")
