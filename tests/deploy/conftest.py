"""Deployment tests reuse the end-to-end app fixture to replay scenarios under the call recorder."""

from __future__ import annotations

from tests.e2e.conftest import make_app  # noqa: F401  (re-exported fixture)
