"""The soak: `python -m tests.faultsuite --schedules N [--first-seed S]` or `--seed S` to replay.

Starts its own DynamoDB Local, runs the schedules one after the other, prints each violating
schedule's seed, violations and trace, then a summary; exits 1 if any schedule violated an
invariant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from s3once.aws.tables import create_lock_table
from s3once.local.servers import OFFLINE_CREDENTIALS, dynamodb_local
from tests.faultsuite.suite import Tally, describe, run_many, summary
from tests.faultsuite.world import Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faultsuite")
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--seed", type=int, action="append", help="replay this seed (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every schedule's trace")
    args = parser.parse_args(argv)
    seeds = args.seed or list(range(args.first_seed, args.first_seed + args.schedules))
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(OFFLINE_CREDENTIALS)
    tally = Tally()
    with dynamodb_local() as url, tempfile.TemporaryDirectory() as workdir:
        lock_table = "faultsuite-locks"
        create_lock_table(Stack(url, "", lock_table, "", "").client(), lock_table)
        for number, outcome in enumerate(run_many(seeds, url, Path(workdir), lock_table), 1):
            tally.add(outcome)
            if outcome.violations or args.verbose:
                print(describe(outcome), flush=True)
            if number % 50 == 0:
                print(
                    f"{number}/{len(seeds)} schedules, {len(tally.failed_seeds)} violating,"
                    f" {tally.seconds:.0f} s",
                    flush=True,
                )
    print(json.dumps(summary(tally), indent=2))
    return 1 if tally.failed_seeds else 0


if __name__ == "__main__":
    sys.exit(main())
