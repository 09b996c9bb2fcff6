"""The detectors, one module per finding kind, and the registry jobs run."""

from __future__ import annotations

from typing import Any

from tsdev.analysis.detectors.base import Detector
from tsdev.analysis.detectors.cacheable import CacheableDetector, CacheableSettings
from tsdev.analysis.detectors.flaky_step import FlakyStepDetector, FlakyStepSettings
from tsdev.analysis.detectors.n_plus_one import NPlusOneDetector, NPlusOneSettings
from tsdev.analysis.detectors.parallelizable import ParallelizableDetector, ParallelizableSettings

DETECTORS: tuple[type[Detector[Any]], ...] = (
    NPlusOneDetector,
    FlakyStepDetector,
    ParallelizableDetector,
    CacheableDetector,
)
"""Every detector a job runs, in this order. Adding one is an explicit line here."""

__all__ = [
    "DETECTORS",
    "CacheableDetector",
    "CacheableSettings",
    "Detector",
    "FlakyStepDetector",
    "FlakyStepSettings",
    "NPlusOneDetector",
    "NPlusOneSettings",
    "ParallelizableDetector",
    "ParallelizableSettings",
]
