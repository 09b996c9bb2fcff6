"""Detector quality and throughput.

Quality: a labelled corpus of positive and near-miss scenarios per finding kind (built with the
test suite's span builders), each run through its detector alone; prints precision and recall per
kind. Then the same for the corpus recorded from a small instrumented app (``tests/analysis/corpus``:
the real OpenTelemetry SDK exporting over OTLP to tsdev's receiver on a fresh embedded store), with
every detector run over the whole recording.
Throughput: a full pass over ``--spans`` stored spans (default 1,000,000 in about 50k
traces), from the SELECT on an embedded chDB store to the last detector, in spans per second, with
the pass's peak memory. The store is written by a child process first, so the peak measured here is
the pass's own, not the corpus generator's.

    uv run python bench/detectors.py [--spans N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.spans import (
    TraceBuilder,
    charge_calls,
    frame,
    graphql_loop,
    http_loop,
    loop_noise,
    orders_loop,
    orders_without_loop,
    otel_arrow,
    product_reads,
    profile_page,
    query_waterfall,
    report_workflow,
)
from tsdev.analysis.detectors import (
    DETECTORS,
    CacheableDetector,
    FlakyStepDetector,
    NPlusOneDetector,
    ParallelizableDetector,
)
from tsdev.analysis.detectors.base import Detector
from tsdev.analysis.jobs.records import Window
from tsdev.analysis.jobs.runner import read_spans
from tsdev.analysis.operations import annotate

Scenario = tuple[str, bool, Callable[[], list[TraceBuilder]]]
"""(name, is a positive, traces)."""


def _loop_traces(repeats: int, each_ms: float) -> list[TraceBuilder]:
    return [orders_loop(n, repeats=repeats, each_ms=each_ms) for n in (1, 2)] + [orders_without_loop(3)]


def _corpus() -> dict[str, tuple[Detector[Any], list[Scenario]]]:
    n1: list[Scenario] = []
    for repeats, each in ((5, 12.0), (8, 10.0), (20, 4.0), (50, 1.5)):
        n1.append(
            (
                f"loop x{repeats}",
                True,
                partial(_loop_traces, repeats, each),
            )
        )
    n1 += [
        ("concurrent loop", True, lambda: [orders_loop(1, concurrent=True, each_ms=60.0)]),
        ("graphql x4", True, lambda: [graphql_loop(1)]),
        ("graphql x10", True, lambda: [graphql_loop(1, items=10, each_ms=3.0)]),
        ("http loop", True, lambda: [http_loop(1)]),
        ("4 repeats", False, lambda: [orders_loop(1, repeats=4, each_ms=30.0)]),
        ("fast repeats", False, lambda: [orders_loop(1, repeats=10, each_ms=2.0)]),
        ("redis repeats", False, lambda: [orders_loop(1, repeats=10, each_ms=20.0, system="redis")]),
        ("waterfall", False, lambda: [query_waterfall(1)]),
        ("connection/fetch/truncated", False, lambda: [loop_noise(1)]),
        ("graphql x2", False, lambda: [graphql_loop(1, items=2, each_ms=30.0)]),
        ("concurrent fast", False, lambda: [orders_loop(1, concurrent=True, each_ms=40.0)]),
    ]
    flaky: list[Scenario] = [
        ("timeouts", True, lambda: charge_calls(1)),
        ("503 with retries", True, lambda: charge_calls(1, retry=True, method="GET", failure="503")),
        ("step child", True, lambda: charge_calls(1, workflow=True)),
        ("2% of 1000", True, lambda: charge_calls(1, runs=1000, fail_every=50)),
        ("always fails", False, lambda: charge_calls(1, layout="always")),
        ("outage", False, lambda: charge_calls(1, layout="outage")),
        ("bug", False, lambda: charge_calls(1, failure="bug")),
        ("40 runs", False, lambda: charge_calls(1, runs=40)),
        ("0.25%", False, lambda: charge_calls(1, runs=400, fail_every=400)),
    ]
    parallel: list[Scenario] = [
        ("request values", True, lambda: [profile_page(n) for n in range(1, 6)]),
        (
            "order varies",
            True,
            lambda: [profile_page(n, swap=n % 2 == 0, dependent=True) for n in range(1, 6)],
        ),
        ("workflow", True, lambda: [report_workflow(n) for n in range(1, 6)]),
        (
            "dependent",
            False,
            lambda: [profile_page(n, dependent=True, durations=(120.0, 100.0)) for n in range(1, 6)],
        ),
        ("undeclared steps", False, lambda: [report_workflow(n, declared=False) for n in range(1, 6)]),
        ("small saving", False, lambda: [profile_page(n, durations=(30.0, 30.0, 40.0)) for n in range(1, 6)]),
        ("two traces", False, lambda: [profile_page(n) for n in range(1, 3)]),
    ]
    cache: list[Scenario] = [
        ("every 10 s", True, lambda: product_reads(1)),
        ("every 60 s", True, lambda: product_reads(1, every_s=60.0)),
        ("per request", True, lambda: product_reads(1, count=5, per_request=True, every_s=1000.0)),
        ("writes between", False, lambda: product_reads(1, write_between=True)),
        ("hours apart", False, lambda: product_reads(1, every_s=4000.0)),
        ("too few", False, lambda: product_reads(1, count=10)),
    ]
    return {
        "n_plus_one": (NPlusOneDetector(), n1),
        "flaky_step": (FlakyStepDetector(), flaky),
        "parallelizable": (ParallelizableDetector(), parallel),
        "cacheable": (CacheableDetector(), cache),
    }


def quality() -> None:
    print("-- synthetic (span builders)")
    print(f"{'kind':<16}{'scenarios':>10}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}")
    for kind, (detector, scenarios) in _corpus().items():
        tp = fp = fn = 0
        for name, positive, build in scenarios:
            found = [f for f in detector.run(frame(build()), window_s=3600.0) if f.kind == kind]
            if positive and found:
                tp += 1
            elif positive:
                fn += 1
                print(f"  missed: {kind} / {name}")
            elif found:
                fp += len(found)
                print(f"  false positive: {kind} / {name}: {found[0].title}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{kind:<16}{len(scenarios):>10}{tp:>5}{fp:>5}{fn:>5}{precision:>11.2f}{recall:>8.2f}")
    print("-- recorded from the instrumented app (real OpenTelemetry SDK, OTLP, embedded store)")
    recorded_quality()


def recorded_quality() -> None:
    from tests.analysis.corpus.record import detect, record_into, score, table
    from tsdev.core.store import Store

    store_dir = tempfile.mkdtemp(prefix="tsdev-bench-corpus-")
    store = Store.connect(f"chdb://{store_dir}/store", "otel")
    try:
        began = time.perf_counter()
        recording = record_into(store, data_dir=Path(store_dir, "server"))
        recorded = time.perf_counter() - began
        print(table(score(detect(store, recording.window))))
        requests = sum(statuses.total() for statuses in recording.statuses.values())
        print(f"({len(recording.statuses)} scenarios, {requests} requests, recorded in {recorded:.1f} s)")
    finally:
        store.close()
        shutil.rmtree(store_dir, ignore_errors=True)


def _templates() -> pl.DataFrame:
    """A mix of traffic, about 20 spans per trace: mostly plain requests (middleware, a session
    lookup in redis, a few dozen fast queries, a pricing call, rendering), some with each kind of
    problem."""
    traces: list[TraceBuilder] = []
    for n in range(1, 9):
        trace = TraceBuilder(number=n)
        root = trace.server("/items/{id}", duration_ms=80.0)
        trace.span("auth", parent=root, at_ms=0.2, duration_ms=0.5)
        trace.redis(f"GET session:{n}", parent=root, at_ms=0.8, duration_ms=0.2)
        for i in range(16):
            trace.db(
                f"SELECT * FROM stock WHERE sku = {n * 100 + i}",
                parent=root,
                at_ms=1 + i * 2,
                duration_ms=1.5,
            )
        for i in range(14):
            trace.db(
                f"SELECT price FROM prices WHERE sku = {n * 100 + i} AND region = 'eu'",
                parent=root,
                at_ms=34 + i * 2,
                duration_ms=1.0,
            )
        trace.http("GET", f"http://pricing/prices/{n}", parent=root, at_ms=63, duration_ms=3.0)
        trace.span("render", parent=root, at_ms=67, duration_ms=10.0)
        trace.span("log request", parent=root, at_ms=78, duration_ms=0.5)
        traces.append(trace)
    traces += [
        orders_loop(20, repeats=12),
        graphql_loop(21),
        http_loop(22),
        profile_page(23),
        query_waterfall(24),
    ]
    traces += charge_calls(30, runs=4, fail_every=4)
    return frame(traces)


def generate(store_dir: str, spans: int) -> None:
    """Child process: write about ``spans`` spans into a fresh embedded store."""
    from tsdev.core.store import Store

    template = _templates().cast({pl.Categorical: pl.String})  # ids are rewritten as text below
    trace_ids = template["trace_id"].unique().sort()
    per_copy = template.height
    copies = max(1, spans // per_copy)
    start = (time.time_ns() - 3600 * 10**9) - template["start_ns"].cast(pl.Int64).sort().to_list()[0]
    store = Store.connect(f"chdb://{store_dir}", "otel")
    batch = max(1, 200_000 // per_copy)
    for first in range(0, copies, batch):
        count = min(batch, copies - first)
        copy = pl.Series("copy", range(first, first + count), dtype=pl.Int64)
        tiled = pl.DataFrame(copy).join(template, how="cross")
        tiled = (
            tiled.with_columns(
                trace_id=pl.concat_str(
                    pl.col("copy").cast(pl.String).str.zfill(12), pl.col("trace_id").str.slice(12)
                ),
                span_id=pl.concat_str(
                    pl.col("copy").cast(pl.String).str.zfill(8), pl.col("span_id").str.slice(8)
                ),
                parent_span_id=pl.when(pl.col("parent_span_id") == "")
                .then(pl.lit(""))
                .otherwise(
                    pl.concat_str(
                        pl.col("copy").cast(pl.String).str.zfill(8), pl.col("parent_span_id").str.slice(8)
                    )
                ),
                start_ns=pl.col("start_ns") + start + pl.col("copy") * (3_000 * 10**9 // copies),
            )
            .with_columns(end_ns=pl.col("start_ns") + pl.col("duration_ns"))
            .drop("copy")
        )
        store.insert_arrow("otel_traces", otel_arrow(tiled))
    # Merge the inserted parts now, as a running server would have in the background by the time a
    # job reads them; otherwise the reading process merges them and its peak memory counts the merge.
    for (table,) in store.query_rows(
        "SELECT name FROM system.tables WHERE database = 'otel' AND engine LIKE '%MergeTree'"
    ):
        store.command(f"OPTIMIZE TABLE otel.`{table}` FINAL")
    store.close()
    print(f"stored {copies * per_copy:,} spans in {copies * len(trace_ids):,} traces", flush=True)


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Read from ``VmHWM`` rather than ``ru_maxrss``, which
    Linux carries over from the parent across ``exec`` and so would count the launching process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(store_dir: str) -> None:
    from tsdev.core.store import Store

    store = Store.connect(f"chdb://{store_dir}", "otel")
    now_ns = time.time_ns()
    window = Window(now_ns - 2 * 3600 * 10**9, now_ns + 3600 * 10**9)
    before_mb = _peak_rss_mb()
    began, began_cpu = time.perf_counter(), time.process_time()
    timings: list[tuple[str, float, float]] = []

    def lap(name: str, since: tuple[float, float]) -> tuple[float, float]:
        now = time.perf_counter(), time.process_time()
        timings.append((name, now[0] - since[0], now[1] - since[1]))
        return now

    mark = (began, began_cpu)
    spans = read_spans(store, window)
    mark = lap("read (chDB -> frame)", mark)
    annotated = annotate(spans)
    mark = lap("annotate", mark)
    findings = 0
    for detector_type in DETECTORS:
        findings += len(detector_type().run(annotated, window_s=3600.0))
        mark = lap(detector_type.kind, mark)
    total, total_cpu = mark[0] - began, mark[1] - began_cpu
    peak_mb = _peak_rss_mb()
    # CPU time is printed beside wall time: on a shared machine the wall time mostly measures the
    # neighbours, while CPU seconds (all threads) stay comparable between runs.
    print(f"  {'stage':<22}{'wall':>8}{'cpu':>8}")
    for name, seconds, cpu in timings:
        print(f"  {name:<22}{seconds:8.2f}{cpu:8.2f}")
    print(
        f"full pass: {spans.height:,} spans, {spans['trace_id'].n_unique():,} traces, {findings} findings in "
        f"{total:.2f} s wall ({total_cpu:.2f} s cpu) = {spans.height / total:,.0f} spans/s; "
        f"peak RSS {peak_mb:,.0f} MB, of which {before_mb:,.0f} MB before the read (engine and libraries)"
        f" and {peak_mb - before_mb:,.0f} MB added by the pass"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans to store and analyze")
    parser.add_argument("--keep", help="store directory to reuse (created when missing)")
    parser.add_argument("--phase", choices=["generate", "throughput"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "generate":
        generate(args.keep, args.spans)
        return
    if args.phase == "throughput":
        throughput(args.keep)
        return
    print("== quality (labelled corpus)")
    quality()
    print(f"== throughput ({args.spans:,} spans)")
    store_dir = args.keep or tempfile.mkdtemp(prefix="tsdev-bench-")
    try:
        if not args.keep or not Path(store_dir, "store").exists():
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--phase",
                    "generate",
                    "--keep",
                    store_dir,
                    "--spans",
                    str(args.spans),
                ],
                check=True,
            )
        subprocess.run([sys.executable, __file__, "--phase", "throughput", "--keep", store_dir], check=True)
    finally:
        if not args.keep:
            shutil.rmtree(store_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
