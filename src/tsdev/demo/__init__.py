"""``tsdev demo``: the whole loop on the demo shop, in one process, in a few minutes.

tsdev embedded, the instrumented shop and its traffic, a replayed week of history, analysis and its
findings, the advisor's patches in dry-run, the forecast and the autoscaler's plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from tsdev.demo.run import SUMMARY_FILE, DemoOptions, run_demo

__all__: Sequence[str] = ["SUMMARY_FILE", "DemoOptions", "run_demo"]
