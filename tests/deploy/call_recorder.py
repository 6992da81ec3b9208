"""A pytest plugin that records every AWS call the application makes while tests run.

Load it with `-p tests.deploy.call_recorder` and set `CALL_LOG` to a file: each call made from
`app.py` or `chalicelib/` becomes one JSON line naming the processor in force and the call's
resources by the settings (environment variables) that held their names. Settings are taken
from the environment the application read at start-up (`Settings.from_environ`), not from
`os.environ` at call time, which `chalice.test.Client` swaps for the stage's. Calls the tests
make themselves (creating buckets, uploading, scanning) are not recorded.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from chalicelib.core.settings import Settings
from chalicelib.processors import DEFAULT_PROCESSOR

CALL_LOG = "CALL_LOG"
_PROJECT_DIR = Path(__file__).resolve().parents[2]
_APPLICATION = (str(_PROJECT_DIR / "chalicelib") + os.sep, str(_PROJECT_DIR / "app.py"))
_RESOURCE_PARAMS = ("TableName", "Bucket")
_read_environment: dict[str, str] = {}


def _made_by_application() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(_APPLICATION):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _setting_naming(value: str) -> str:
    """The environment variable holding `value`, as the application read it."""
    for name, setting in sorted(_read_environment.items()):
        if setting == value and name.endswith("_NAME"):
            return name
    return f"<unnamed:{value}>"  # a resource no setting names: the proof reports it


def _abstract(params: dict[str, Any]) -> dict[str, Any]:
    """What IAM looks at in a call: resources (by setting), object keys, versions, item kinds."""
    kept: dict[str, Any] = {
        name: _setting_naming(params[name]) for name in _RESOURCE_PARAMS if name in params
    }
    if isinstance(params.get("Key"), str):
        kept["Key"] = params["Key"]
    if params.get("VersionId"):
        kept["VersionId"] = True
    if "TransactItems" in params:
        kept["TransactItems"] = [
            {kind: _abstract(body) for kind, body in item.items()}
            for item in params["TransactItems"]
        ]
    if "RequestItems" in params:
        kept["RequestItems"] = {
            _setting_naming(table): [{kind: {} for kind in request} for request in requests]
            if isinstance(requests, list)
            else {}
            for table, requests in params["RequestItems"].items()
        }
    return kept


def _record(params: dict[str, Any], model: Any, **_: Any) -> None:
    if not _made_by_application():
        return
    line = {
        "processor": _read_environment.get("PROCESSOR") or DEFAULT_PROCESSOR,
        "service": model.service_model.service_name,
        "operation": model.name,
        "params": _abstract(params),
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
    }
    with open(os.environ[CALL_LOG], "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


_original_init = botocore.session.Session.__init__
_original_from_environ = Settings.from_environ.__func__  # type: ignore[attr-defined]


def _from_environ_remembered(cls: type[Settings], environ: Any) -> Settings:
    _read_environment.clear()
    _read_environment.update(environ)
    settings: Settings = _original_from_environ(cls, environ)
    return settings


def _init_with_recorder(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.register("before-parameter-build", _record)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get(CALL_LOG):
        raise pytest.UsageError(f"the call recorder needs {CALL_LOG}=<file>")
    botocore.session.Session.__init__ = _init_with_recorder  # type: ignore[method-assign]
    Settings.from_environ = classmethod(_from_environ_remembered)  # type: ignore[assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    botocore.session.Session.__init__ = _original_init  # type: ignore[method-assign]
    Settings.from_environ = classmethod(_original_from_environ)  # type: ignore[assignment]
