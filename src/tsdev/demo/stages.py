"""The demo's stages, in the order they run; each prints what it did and returns it.

Kept as separate functions so the end-to-end test and a reader can see each step of the loop
(ingest, analysis, advice, forecast, scaling) on its own, and so a failure names the stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from tsdev.analysis.findings import Finding
from tsdev.analysis.jobs.records import FindingRecord, Window
from tsdev.analysis.jobs.runner import analyze_window
from tsdev.cli.forecast import sparkline
from tsdev.demo import plan as planning
from tsdev.demo import shop
from tsdev.demo.embedded import EmbeddedTsdev

SPARK_WIDTH = 48
FORECAST_QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Patch:
    kind: str
    fingerprint: str
    status: str
    title: str
    diff: str
    body: str
    out_dir: str
    reason: str


def heading(console: Console, number: int, title: str) -> None:
    console.rule(f"[bold]{number}. {title}")


def start_tsdev(console: Console, data_dir: Path) -> EmbeddedTsdev:
    """tsdev on the embedded store, as ``make serve`` runs it, on free ports."""
    started = time.monotonic()
    tsdev = EmbeddedTsdev(data_dir).start()
    console.print(
        f"tsdev is up in {time.monotonic() - started:.0f} s: OTLP/HTTP {tsdev.otlp_url}, "
        f"OTLP/gRPC {tsdev.grpc_endpoint}, API {tsdev.api_url}; data in {data_dir}"
    )
    return tsdev


def replay_history(console: Console, tsdev: EmbeddedTsdev, *, days: float, peak_per_minute: float) -> int:
    """A simulated week of the shop's past, so the forecast has days of traffic to learn from."""
    started = time.monotonic()
    spans = shop.emit_history(tsdev.otlp_url, days=days, peak_per_minute=peak_per_minute)
    console.print(
        f"replayed {days:g} days of shop traffic as {spans} spans over OTLP/HTTP"
        f" in {time.monotonic() - started:.0f} s (the daily and weekly shape the forecast will learn)"
    )
    return spans


def run_traffic(console: Console, tsdev: EmbeddedTsdev, *, minutes: float, fast: bool) -> shop.TrafficReport:
    """The shop, instrumented with the OpenTelemetry SDK, serving live requests into tsdev."""
    running = shop.start_shop(tsdev.otlp_url)
    console.print(f"shop on {running.url} (stubs on {running.stubs_url}), exporting to {tsdev.otlp_url}")
    what = "a burst of requests" if fast else f"{minutes:g} minutes of traffic (a week's shape, compressed)"
    with console.status(f"sending {what}..."):
        try:
            report = shop.drive_traffic(running, minutes=minutes, fast=fast)
        finally:
            running.stop()  # flushes the shop's spans and logs
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.by_kind.items()))
    answers = ", ".join(f"{count}x {status}" for status, count in report.by_status.items())
    console.print(f"sent {report.sent} requests ({kinds}); answers: {answers}")
    stored = wait_for_server_spans(tsdev, report)
    console.print(f"{stored} of them are stored as traces in tsdev")
    return report


def wait_for_server_spans(tsdev: EmbeddedTsdev, report: shop.TrafficReport, timeout_s: float = 60.0) -> int:
    """Poll until every live request's server span is committed (the exporter sends in batches)."""
    table = tsdev.store.table("otel_traces")
    since = datetime.fromtimestamp(report.started_ns / 1e9, UTC).replace(tzinfo=None)
    sql = (
        f"SELECT count() FROM {table} WHERE ServiceName = 'shop' AND SpanKind = 'Server'"  # noqa: S608
        " AND Timestamp >= {since:DateTime64(9)}"
    )
    deadline = time.monotonic() + timeout_s
    while True:
        count = int(tsdev.store.query_rows(sql, {"since": since})[0][0])
        if count >= report.sent or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def analyze(console: Console, tsdev: EmbeddedTsdev, report: shop.TrafficReport) -> list[FindingRecord]:
    """One analysis pass over the live traffic's window, as the scheduled job runs it."""
    window = Window(report.started_ns - 10**9, time.time_ns() + 10**9)
    summary = analyze_window(tsdev.store, window)
    findings = sorted(summary.findings, key=lambda r: (-r.estimated_saving_ms_per_hour, r.kind))
    table = Table(title=f"{len(findings)} findings in {summary.spans} spans of {summary.traces} traces")
    for column in ("kind", "severity", "service", "where", "saving ms/h", "traces", "fingerprint"):
        table.add_column(column, justify="right" if column in {"saving ms/h", "traces"} else "left")
    for record in findings:
        table.add_row(
            record.kind,
            record.severity,
            record.service,
            record.parent_operation,
            f"{record.estimated_saving_ms_per_hour:,.0f}",
            str(record.traces_affected),
            record.fingerprint[:12],
        )
    console.print(table)
    for record in findings[:4]:
        console.print(f"  [bold]{record.kind}[/bold]: {record.title}")
    return findings


def advise(console: Console, findings: list[FindingRecord], work_dir: Path) -> list[Patch]:
    """The advisor's pull requests for the shop, in dry-run against a local git copy of it: the
    patch, diff and PR body are written locally and nothing goes to GitHub."""
    from tsdev.advisor import AdvisorSettings
    from tsdev.advisor import advise as run_advisor

    repo = shop.repo_copy(work_dir / "shop")
    console.print(f"a git copy of examples/shop is at {repo}")
    settings = AdvisorSettings.from_env()
    best: dict[str, FindingRecord] = {}
    for record in findings:  # the costliest finding of each kind: one PR per problem
        if record.service == "shop" and record.kind not in best:
            best[record.kind] = record
    patches: list[Patch] = []
    for record in best.values():
        finding = Finding.model_validate({name: getattr(record, name) for name in Finding.model_fields})
        result = run_advisor(
            finding,
            repo_path=repo,
            settings=settings,
            dry_run=True,
            out_dir=work_dir / "prs" / f"{record.kind}-{record.fingerprint[:8]}",
        )
        patch = Patch(
            record.kind,
            record.fingerprint,
            result.status,
            result.title,
            result.diff,
            result.body,
            result.out_dir,
            result.reason,
        )
        patches.append(patch)
        show_patch(console, patch, engine=result.engine)
    return patches


def show_patch(console: Console, patch: Patch, *, engine: str) -> None:
    if not patch.diff:
        console.print(f"[bold]{patch.kind}[/bold]: no patch ({patch.status}): {patch.reason}")
        return
    console.print(
        f"[bold]{patch.kind}[/bold]: {patch.title}  [dim]({engine}, files in {patch.out_dir})[/dim]"
    )
    console.print(Syntax(patch.diff, "diff", theme="ansi_dark", background_color="default"))
    console.print(Panel(Markdown(patch.body), title="pull request body", expand=False))


def forecast(console: Console, tsdev: EmbeddedTsdev, *, hours: int) -> dict[str, Any]:
    """The shop's request-rate forecast from the API (fitted on demand on the replayed week)."""
    quantiles = ",".join(f"{q:g}" for q in FORECAST_QUANTILES)
    url = f"{tsdev.api_url}/api/v1/forecast/shop"
    started = time.monotonic()
    with console.status("fitting the forecast (models chosen by backtest)..."):
        response = httpx.get(
            url, params={"horizon": f"{hours}h", "step": "1h", "quantiles": quantiles}, timeout=600
        )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    console.print(
        f"GET {url}?horizon={hours}h&step=1h answered in {time.monotonic() - started:.0f} s;"
        f" model: {body['model']}"
    )
    table = Table(title=f"shop: forecast requests per minute, next {hours} h")
    table.add_column("hour (UTC)")
    for q in FORECAST_QUANTILES:
        table.add_column(f"q{q:g}", justify="right")
    for point in body["points"]:
        table.add_row(
            point["timestamp"][:16].replace("T", " "),
            *(f"{point['quantiles'][f'{q:g}']:.1f}" for q in FORECAST_QUANTILES),
        )
    console.print(table)
    medians = [float(p["quantiles"]["0.5"]) for p in body["points"]]
    console.print(
        f"median  {sparkline(medians, SPARK_WIDTH)}  ({min(medians):.1f} to {max(medians):.1f} per minute)"
    )
    return body


def scaling_plan(
    console: Console, tsdev: EmbeddedTsdev, body: dict[str, Any], *, hours: int
) -> list[planning.PlanStep]:
    """The floors the predictive autoscaler would hold for the shop, from the stored forecast."""
    from tsdev.platform.forecast_source import StoreForecastSource

    peak_rps = max(float(p["quantiles"]["0.9"]) for p in body["points"]) / 60
    scaling = planning.scaling_for(planning.replica_size(peak_rps))
    source = StoreForecastSource.from_store(tsdev.store)
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    steps = planning.scaling_plan(source, "shop", scaling, start=start, hours=hours)
    console.print(
        f"policy: q{scaling.quantile:g} forecast {scaling.lead_seconds} s ahead / "
        f"{scaling.target_rps_per_replica:g} rps per replica, within [{scaling.min_replicas}, "
        f"{scaling.max_replicas}], +{scaling.scale_up_max_pods} pods per step up, "
        f"{scaling.scale_down_stabilization_seconds} s stabilization down (tick every 5 min)"
    )
    table = Table(title="shop: the autoscaler's floor (HPA minReplicas), next hours")
    for column in ("time (UTC)", "forecast rps", "needed", "floor", "why"):
        table.add_column(column, justify="left" if column in {"time (UTC)", "why"} else "right")
    for step in planning.hourly(steps):
        table.add_row(
            f"{step.at:%a %H:%M}",
            "-" if step.forecast_rps is None else f"{step.forecast_rps:.3f}",
            str(step.desired),
            str(step.floor),
            step.reason,
        )
    console.print(table)
    floors = [float(s.floor) for s in steps]
    console.print(
        f"floor   {sparkline(floors, SPARK_WIDTH)}  ({min(floors):.0f} to {max(floors):.0f} replicas)"
    )
    return steps


def next_steps(console: Console, tsdev: EmbeddedTsdev, *, kept: bool) -> None:
    """Where to look next; the URLs answer while ``--keep`` holds tsdev up."""
    api = tsdev.api_url
    server = f"TSDEV_SERVER={api}"
    rows = [
        ("API docs", f"{api}/docs"),
        ("findings", f"{api}/api/v1/findings"),
        ("forecast", f"{api}/api/v1/forecast/shop?horizon=24h&step=1h"),
        ("traces", f"{api}/api/v1/traces?service=shop"),
        ("Grafana", f"a Jaeger data source with URL {api}/jaeger"),
        ("CLI", f"{server} tsdev findings"),
        ("", f"{server} tsdev traces --service shop"),
        ("", f"{server} tsdev forecast shop --horizon 24h"),
        ("", "tsdev advise FINGERPRINT --repo-path PATH --dry-run"),
        ("your app", f"OTEL_EXPORTER_OTLP_ENDPOINT={tsdev.otlp_url}"),
    ]
    table = Table(title="where to look next", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, where in rows:
        table.add_row(name, where)
    console.print(table)
    if not kept:
        console.print("tsdev stops now; run [bold]tsdev demo --keep[/bold] to keep it up and explore.")


def plan_hours(fast: bool) -> int:
    return 6 if fast else 24
