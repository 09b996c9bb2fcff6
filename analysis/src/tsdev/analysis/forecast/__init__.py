"""Forecasting of request rates: models, rolling-origin backtests and the automatic choice.

``forecast_series`` is the entry point for jobs; the forecasters follow the scikit-learn lifecycle
(see ``base``) so they can also be used and tested one by one.
"""

from tsdev.analysis.forecast._series import RegularSeries, from_arrays, from_frame
from tsdev.analysis.forecast.auto import AutoForecaster, default_candidates, forecast_series
from tsdev.analysis.forecast.backtest import BacktestReport, backtest
from tsdev.analysis.forecast.base import Forecaster, InsufficientHistoryError, ModelForecaster, NotFittedError
from tsdev.analysis.forecast.boosting import BoostedRegressionForecaster
from tsdev.analysis.forecast.cold_start import ColdStartForecaster
from tsdev.analysis.forecast.events import Event
from tsdev.analysis.forecast.holt_winters import HoltWintersForecaster
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES, quantile_column
from tsdev.analysis.forecast.local_time import LocalTimeForecaster
from tsdev.analysis.forecast.mstl import MSTLForecaster
from tsdev.analysis.forecast.naive import SeasonalNaiveForecaster
from tsdev.analysis.forecast.result import ForecastResult

__all__ = [
    "DEFAULT_QUANTILES",
    "AutoForecaster",
    "BacktestReport",
    "BoostedRegressionForecaster",
    "ColdStartForecaster",
    "Event",
    "ForecastResult",
    "Forecaster",
    "HoltWintersForecaster",
    "InsufficientHistoryError",
    "LocalTimeForecaster",
    "MSTLForecaster",
    "ModelForecaster",
    "NotFittedError",
    "RegularSeries",
    "SeasonalNaiveForecaster",
    "backtest",
    "default_candidates",
    "forecast_series",
    "from_arrays",
    "from_frame",
    "quantile_column",
]
