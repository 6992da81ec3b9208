"""A local stand-in for Lambda: the project's handler in a process of its own.

`s3once` starts this with the stage's variables and AWS settings as the child's environment
(the app reads its configuration from the environment, as on Lambda), so the tool never changes
its own. One JSON event per line on stdin, one JSON answer per line on the original stdout;
the app's own output (its log lines) goes to stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from typing import Any

HANDLER = "on_object_created"
LOCAL_TIMEOUT_MS = 60_000  # the Lambda timeout the local context pretends to have


def main() -> None:
    # Ctrl-C reaches the whole process group: the tool decides when to stop (it closes our
    # stdin); the event in hand is finished, so no record is left under a live lease.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.path.insert(0, os.getcwd())
    from botocore.exceptions import BotoCoreError, ClientError
    from chalice.local import LambdaContext

    from chalicelib.core.errors import IncompleteBatchError, S3OnceError

    try:
        handler = importlib.import_module("app").app.handler_map[HANDLER]
    except S3OnceError as exc:
        answers.write(json.dumps({"fatal": f"{type(exc).__name__}: {exc}"}) + "\n")
        answers.flush()
        sys.exit(1)
    for line in sys.stdin:
        event = json.loads(line)
        context = LambdaContext(HANDLER, memory_size=256, max_runtime_ms=LOCAL_TIMEOUT_MS)
        answer: dict[str, Any]
        try:
            answer = {"records": handler(event, context)["records"], "error": None}
        except IncompleteBatchError as exc:
            answer = {"records": exc.records, "error": str(exc)}
        except (S3OnceError, BotoCoreError, ClientError) as exc:
            # The invocation failed as it would on Lambda: reported, the next event goes on.
            answer = {"records": [], "error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
