"""Randomized fault schedules through the real pipeline and lock repository on DynamoDB Local.

`python -m tests.faultsuite --schedules N [--seed S]` runs a soak; `make test` runs a bounded
number through `tests/faultsuite/test_schedules.py`.
"""
