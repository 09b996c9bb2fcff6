"""``tsdev autoscale``: run the predictive autoscaler for the apps of the given specs.

It reads forecasts from and records decisions through tsdev's API (``--server``), so it runs anywhere
the API is reachable, in the cluster as a Deployment with the RBAC of
``platform/deploy/autoscaler-rbac.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption
from tsdev.cli.kubeopts import ContextOption, KubeconfigOption, NamespaceOption, connect
from tsdev.cli.output import EXIT_USAGE, abort, data, info


def autoscale(
    specs: Annotated[list[Path], typer.Argument(metavar="SPEC...", help="App specs of the apps to scale")],
    namespace: NamespaceOption = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between ticks")] = 30.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide and record, change nothing")] = False,
    once: Annotated[bool, typer.Option("--once", help="One tick, print the decisions, exit")] = False,
    leader_elect: Annotated[
        bool, typer.Option("--leader-elect/--no-leader-elect", help="Hold a Lease so only one replica acts")
    ] = True,
    lease_namespace: Annotated[
        str, typer.Option("--lease-namespace", help="Namespace of the Lease")
    ] = "default",
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Raise each app's HPA floor (or replicas) ahead of its forecast; stop on SIGTERM or Ctrl-C."""
    import json
    import signal
    import threading

    from tsdev.platform.autoscaler import Autoscaler
    from tsdev.platform.decisions import DecisionRecord, HttpDecisionSink
    from tsdev.platform.forecast_source import HttpForecastSource
    from tsdev.platform.leader import LeaseElector
    from tsdev.platform.spec import SpecError, load_spec

    try:
        apps = [load_spec(p).with_overrides(namespace=namespace) for p in specs]
    except SpecError as exc:
        abort(str(exc), EXIT_USAGE)
    kube = connect(kubeconfig, context)
    source = HttpForecastSource(server)
    sink = HttpDecisionSink(server)
    elector = LeaseElector(kube.coordination, lease_namespace) if leader_elect else None
    scaler = Autoscaler(kube, source, sink, apps, dry_run=dry_run, elector=elector)
    try:
        if once:
            for decision in scaler.tick():
                data(json.dumps(DecisionRecord.of(decision).as_json()))
            if elector is not None:
                elector.release()
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        info(
            f"autoscaling {', '.join(a.name for a in apps)} every {interval:g} s"
            + (" (dry run)" if dry_run else "")
        )
        scaler.run(stop, interval)
    finally:
        source.close()
        sink.close()
