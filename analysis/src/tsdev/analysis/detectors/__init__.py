"""The detectors, one module per finding kind, and the registry jobs run."""

from __future__ import annotations

from tsdev.analysis.detectors.base import Detector
from tsdev.analysis.detectors.n_plus_one import NPlusOneDetector, NPlusOneSettings

DETECTORS: tuple[type[Detector[object]], ...] = (NPlusOneDetector,)  # type: ignore[assignment]
"""Every detector a job runs, in this order. Adding one is an explicit line here."""

__all__ = ["DETECTORS", "Detector", "NPlusOneDetector", "NPlusOneSettings"]
