"""`s3once report`: the access-log totals per UTC hour, as a table, JSON or a PNG chart.

The counters' meaning comes from the app's own `chalicelib.processors.access_log.aggregate`,
imported from the project directory (the CLI package itself does not ship `chalicelib`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s3once.aws.session import aws_errors
from s3once.context import Context, aws_options
from s3once.output import table

if TYPE_CHECKING:
    from chalicelib.processors.access_log.aggregate import HourTotals


def read_totals(dynamodb: Any, table_name: str) -> dict[str, HourTotals]:
    """Every hour's totals in the aggregates table, in hour order (strongly consistent).

    An hour's totals may be spread over several items (`<hour>#<shard>`): they are summed, and
    items with and without a shard (a table from before sharding) sum alike.
    """
    from chalicelib.processors.access_log.aggregate import HourTotals, hour_of_item

    hours: dict[str, HourTotals] = {}
    pages = dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True)
    for page in pages:
        for item in page["Items"]:
            counters = {
                name: int(value["N"])
                for name, value in item.items()
                if name != "pk" and "N" in value
            }
            hour = hour_of_item(item["pk"]["S"])
            totals = hours.get(hour)
            if totals is None:
                hours[hour] = HourTotals.from_counters(counters)
            else:
                totals.merge(HourTotals.from_counters(counters))
    return dict(sorted(hours.items()))


def to_json(hours: dict[str, HourTotals]) -> str:
    return json.dumps({hour: totals.to_json() for hour, totals in hours.items()}, indent=2)


def to_table(hours: dict[str, HourTotals]) -> str:
    rows: list[list[object]] = [
        [
            hour,
            totals.requests,
            totals.bytes,
            totals.errors_4xx,
            totals.errors_5xx,
            " ".join(f"{code}:{n}" for code, n in sorted(totals.status.items())),
        ]
        for hour, totals in hours.items()
    ]
    from chalicelib.processors.access_log.aggregate import HourTotals

    total = HourTotals()
    for totals in hours.values():
        total.merge(totals)
    rows.append(["total", total.requests, total.bytes, total.errors_4xx, total.errors_5xx, ""])
    return table(("hour (UTC)", "requests", "bytes", "4xx", "5xx", "status"), rows)


def write_png(hours: dict[str, HourTotals], path: Path) -> None:
    """A chart of requests, 4xx and 5xx per hour."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = list(hours)
    positions = range(len(labels))
    figure, axes = pyplot.subplots(figsize=(max(6.0, 0.4 * len(labels) + 2), 4.5))
    try:
        axes.bar(positions, [t.requests for t in hours.values()], label="requests", color="#9ab")
        axes.plot(positions, [t.errors_4xx for t in hours.values()], "o-", label="4xx")
        axes.plot(positions, [t.errors_5xx for t in hours.values()], "s-", label="5xx")
        axes.set_xticks(list(positions), labels, rotation=60, ha="right", fontsize=8)
        axes.set_xlabel("hour (UTC)")
        axes.set_ylabel("requests")
        axes.set_title("Requests and errors per hour")
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=100)
    finally:
        pyplot.close(figure)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON, for scripts.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also draw requests and errors per hour into this PNG file.",
)
@aws_options
@click.pass_obj
def report(obj: Context, as_json: bool, png: Path | None) -> None:
    """Access-log totals per UTC hour from the aggregates table.

    With --local (before the command) this reads what `make run` kept in .s3once/.
    """
    environment = obj.environment()
    table_name = environment.get("AGGREGATES_TABLE_NAME")
    if not table_name:
        raise click.UsageError(f"AGGREGATES_TABLE_NAME is not set for stage {obj.stage!r}")
    aws = obj.aws()
    with aws_errors(aws, table=table_name):
        hours = read_totals(aws.client("dynamodb"), table_name)
    if as_json:
        click.echo(to_json(hours))
    else:
        click.echo(to_table(hours) if hours else "no access-log totals yet")
    if png is not None:
        write_png(hours, png)
        if not as_json:
            click.echo(f"chart written to {png}")
