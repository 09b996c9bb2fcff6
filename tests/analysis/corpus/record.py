"""Record the corpus into a tsdev store and score the detectors on it.

:func:`record` runs every scenario's service with the real OpenTelemetry SDK (a tracer provider per
service, batch span processor, OTLP/HTTP exporter) against tsdev's receiver, which stores the spans.
Requests reach the service through httpx's ASGI transport, so the app needs no socket of its own;
its downstream calls do cross one, to the stubs. Scenarios run one after another, so the timing of
one (a sequential run's gaps, a timeout) never depends on the load of another.

:func:`detect` reads the recorded window back with the analysis job's own query, runs every
detector on it, and :func:`score` compares the findings with the manifest's labels.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.analysis.corpus.app import Context, Database, create_app
from tests.analysis.corpus.manifest import SCENARIOS, Scenario
from tests.analysis.corpus.stubs import Stubs
from tests.support.server import InProcessServer
from tsdev.analysis.detectors import DETECTORS
from tsdev.analysis.findings import KINDS, Finding, FindingKind
from tsdev.analysis.jobs.records import Window
from tsdev.analysis.jobs.runner import read_spans
from tsdev.analysis.operations import annotate
from tsdev.core.store import Store

SPANS_PER_SCENARIO = 10_000
"""More than any scenario makes: none is dropped or exported before the scenario ends."""


@dataclass
class Recording:
    window: Window
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    """Answer statuses per scenario."""


async def _drive(
    scenario: Scenario, provider: TracerProvider, database: Database, stubs_url: str
) -> Counter[int]:
    """Send the scenario's requests (numbered from 1) to its service; the statuses it answered."""
    limit = asyncio.Semaphore(scenario.concurrency)
    with httpx.Client(base_url=stubs_url, timeout=5.0) as client:
        async with httpx.AsyncClient(base_url=stubs_url, timeout=5.0) as async_client:
            app = create_app(scenario, Context(provider, database, client, async_client))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{scenario.name}") as caller:

                async def one(n: int) -> int:
                    async with limit:
                        response = await caller.request(scenario.method, scenario.path, params={"n": n})
                        return response.status_code

                statuses = await asyncio.gather(*(one(n) for n in range(1, scenario.requests + 1)))
    return Counter(statuses)


def _provider(service: str, otlp_url: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.0.0"}))
    exporter = OTLPSpanExporter(endpoint=f"{otlp_url.rstrip('/')}/v1/traces")
    # Export once, at the flush after the scenario: the receiver shares this process, and storing
    # spans while requests run would stretch the timings the scenarios are about.
    batch = BatchSpanProcessor(
        exporter, max_queue_size=SPANS_PER_SCENARIO, max_export_batch_size=SPANS_PER_SCENARIO,
        schedule_delay_millis=600_000,
    )  # fmt: skip
    provider.add_span_processor(batch)
    return provider


def record(otlp_url: str, scenarios: tuple[Scenario, ...] = SCENARIOS) -> Recording:
    """Run each scenario's requests and export their spans to the OTLP/HTTP receiver at ``otlp_url``;
    returns once every span is acknowledged (stored) by the receiver."""
    started = time.time_ns()
    recording = Recording(Window(started, started))
    stubs = Stubs().start()
    database = Database()
    try:
        for scenario in scenarios:
            provider = _provider(scenario.name, otlp_url)
            try:
                recording.statuses[scenario.name] = asyncio.run(
                    _drive(scenario, provider, database, stubs.url)
                )
            finally:
                flushed = provider.force_flush(timeout_millis=30_000)
                provider.shutdown()
            if not flushed:
                raise RuntimeError(f"the spans of {scenario.name} were not all exported")
    finally:
        database.close()
        stubs.stop()
    # A second either side: the window is half-open and spans end after their requests.
    recording.window = Window(started - 10**9, time.time_ns() + 10**9)
    return recording


def record_into(store: Store, **settings: Any) -> Recording:
    """:func:`record` through tsdev's receivers served in-process on ``store`` (``settings`` as for
    :class:`~tests.support.server.InProcessServer`)."""
    server = InProcessServer(store, **settings).start()
    try:
        return record(server.otlp_url)
    finally:
        server.stop()


@dataclass
class Score:
    """One kind's counts: a true positive is a positive scenario found, a false positive any finding
    of the kind that no positive scenario of the kind accounts for."""

    kind: FindingKind
    scenarios: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0


def detect(store: Store, window: Window) -> list[Finding]:
    """Every detector's findings in the window, read as an analysis job reads it."""
    spans = annotate(read_spans(store, window))
    return [finding for detector in DETECTORS for finding in detector().run(spans, window_s=window.seconds)]


def score(findings: list[Finding], scenarios: tuple[Scenario, ...] = SCENARIOS) -> dict[FindingKind, Score]:
    scores = {kind: Score(kind) for kind in KINDS}
    for scenario in scenarios:
        result = scores[scenario.kind]
        result.scenarios += 1
        if not scenario.positive:
            continue
        if any(scenario.matches(f) for f in findings):
            result.true_positives += 1
        else:
            result.false_negatives += 1
            result.notes.append(f"missed: {scenario.name} ({scenario.shape})")
    positives = [s for s in scenarios if s.positive]
    for finding in findings:
        if finding.kind not in scores or any(s.matches(finding) for s in positives):
            continue
        scores[finding.kind].false_positives += 1
        scores[finding.kind].notes.append(f"false positive: {finding.service}: {finding.title}")
    return scores


def table(scores: dict[FindingKind, Score]) -> str:
    """Scores as the bench prints them."""
    lines = [f"{'kind':<16}{'scenarios':>10}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"]
    for s in scores.values():
        lines += [f"  {note}" for note in s.notes]
        lines.append(
            f"{s.kind:<16}{s.scenarios:>10}{s.true_positives:>5}{s.false_positives:>5}"
            f"{s.false_negatives:>5}{s.precision:>11.2f}{s.recall:>8.2f}"
        )
    return "\n".join(lines)
