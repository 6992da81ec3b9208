"""Sharded hour items: a file adds to one shard of each hour; the report sums the shards."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import UnguardedWork
from chalicelib.processors.access_log.processor import AccessLogProcessor, shard_of
from chalicelib.processors.access_log.settings import AccessLogSettings
from s3once.commands.report import read_totals, to_json
from tests.access_log_data import log_bytes, requests, truth
from tests.fakes import FakeObjectStore

OBJ = ObjectRef("logs", "access.log", etag="e1", version_id="v1")


def test_the_shard_is_the_same_on_every_delivery_of_an_upload() -> None:
    again = ObjectRef("logs", "access.log", etag="e1", version_id="v1", sequencer="later")

    assert shard_of(OBJ, 4) == shard_of(again, 4)
    assert shard_of(OBJ, 1) is None


def test_uploads_spread_evenly_over_the_shards() -> None:
    shards = Counter(shard_of(ObjectRef("logs", f"k/{n}", etag=f"e{n}"), 4) for n in range(4000))

    assert set(shards) == {0, 1, 2, 3}
    assert min(shards.values()) > 850


def test_a_key_that_is_not_valid_unicode_still_has_a_shard() -> None:
    assert shard_of(ObjectRef("logs", "bad-\udcff", etag="e"), 4) in range(4)


def run(shards: int, obj: ObjectRef = OBJ) -> list[str]:
    store = FakeObjectStore()
    store.put(obj.bucket, obj.key, log_bytes(requests(300, hours=5, seed=4), "s3"), "text/plain")
    processor = AccessLogProcessor(store, AccessLogSettings(shards=shards))
    return [inc.key for inc in processor.process(obj, UnguardedWork()).increments]


def test_every_hour_of_a_file_goes_to_the_files_shard() -> None:
    keys = run(shards=4)

    assert len(keys) == 5
    assert {key.partition("#")[2] for key in keys} == {str(shard_of(OBJ, 4))}
    assert keys == sorted(keys)


def test_one_shard_keeps_the_unsharded_item_keys() -> None:
    assert all("#" not in key for key in run(shards=1))


class ScanOnly:
    """A DynamoDB client that answers scans of the aggregates table from `items`."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items

    def get_paginator(self, name: str) -> ScanOnly:
        assert name == "scan"
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"Items": self._items[:2]}, {"Items": self._items[2:]}]


def item(pk: str, requests: int, status_404: int = 0) -> dict[str, Any]:
    counters = {"requests": requests, "bytes": 10 * requests, "errors_4xx": status_404}
    counters |= {"status_200": requests - status_404, "status_404": status_404}
    return {"pk": {"S": pk}} | {k: {"N": str(v)} for k, v in counters.items() if v}


def test_the_report_sums_an_hours_shards_in_the_unchanged_json_shape() -> None:
    client = ScanOnly(
        [
            item("2026-03-01T01#3", 2),
            item("2026-03-01T00#0", 3, status_404=1),
            item("2026-03-01T00", 4),  # written before sharding
            item("2026-03-01T00#2", 5, status_404=2),
        ]
    )

    report = json.loads(to_json(read_totals(client, "aggregates")))

    assert report == {
        "2026-03-01T00": {
            "requests": 12,
            "bytes": 120,
            "4xx": 3,
            "5xx": 0,
            "status": {"200": 9, "404": 3},
        },
        "2026-03-01T01": {"requests": 2, "bytes": 20, "4xx": 0, "5xx": 0, "status": {"200": 2}},
    }


def test_the_shards_of_many_files_sum_to_the_truth() -> None:
    store = FakeObjectStore()
    items: list[dict[str, Any]] = []
    all_requests = []
    for n in range(12):
        obj = ObjectRef("logs", f"log-{n}", etag=f"e{n}")
        generated = requests(50, hours=3, seed=n)
        all_requests += generated
        store.put(obj.bucket, obj.key, log_bytes(generated, "combined"), "text/plain")
        result = AccessLogProcessor(store, AccessLogSettings(shards=4)).process(
            obj, UnguardedWork()
        )
        items += [
            {"pk": {"S": inc.key}} | {k: {"N": str(v)} for k, v in inc.deltas.items()}
            for inc in result.increments
        ]
    merged: dict[str, dict[str, Any]] = {}
    for entry in items:  # what DynamoDB's ADD does with increments to the same item
        stored = merged.setdefault(entry["pk"]["S"], {"pk": entry["pk"]})
        for name, value in entry.items():
            if name != "pk":
                total = int(stored.get(name, {"N": "0"})["N"]) + int(value["N"])
                stored[name] = {"N": str(total)}

    totals = read_totals(ScanOnly(list(merged.values())), "aggregates")

    assert {hour: t.to_json() for hour, t in totals.items()} == truth(all_requests)
    assert len({pk.partition("#")[2] for pk in merged}) > 1
