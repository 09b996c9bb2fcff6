"""Forecasts, seasonality and declared events."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from tsdev.analysis.forecast.storage import StoredEvent, StoredSeasonality


def rfc3339(moment: datetime) -> str:
    """Naive UTC times of the store as RFC 3339 with a ``Z``."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


class ForecastPoint(BaseModel):
    timestamp: str = Field(description="Start of the step, RFC 3339 UTC")
    mean: float = Field(description="Point forecast: mean requests per minute over the step")
    quantiles: dict[str, float] = Field(description="Requested quantiles by level ('0.9': value)")


class Forecast(BaseModel):
    """The latest forecast of a service's request rate, resampled to the requested step."""

    service: str
    operation: str | None = Field(description="The operation (span name), or null for the whole service")
    unit: str = Field(default="requests/min", description="Unit of every value")
    model: str = Field(description="Chosen model or blend per band of lead times")
    fitted_at: str = Field(description="When the model was fitted or last updated, RFC 3339")
    history_end: str = Field(description="End of the history the forecast rests on (exclusive)")
    history_hours: float = Field(description="Observed history the model was fitted on, in hours")
    cold_start: bool = Field(description="True when history was under two days: no seasonal model")
    calibrated: bool = Field(description="True when intervals come from a backtest, else deliberately wide")
    message: str = Field(description="How the forecast was made, in words; says so on a cold start")
    step_seconds: int
    horizon_seconds: int
    quantiles: list[float]
    scores: dict[str, dict[str, float]] = Field(
        description="Backtest MASE per candidate and horizon (1.0 is no better than yesterday)"
    )
    coverage: dict[str, float] = Field(
        description="Backtest share of actuals inside each central interval, from intervals drawn on "
        "an earlier stretch of history"
    )
    points: list[ForecastPoint]


class SeriesPoint(BaseModel):
    timestamp: str = Field(description="Start of the step, RFC 3339 UTC")
    value: float | None = Field(description="Mean requests per minute over the step; null in an outage")


class Series(BaseModel):
    """The observed request rate the forecasts are fitted on."""

    service: str
    operation: str | None
    unit: str = Field(default="requests/min", description="Unit of every value")
    step_seconds: int
    points: list[SeriesPoint]


class SeasonalPeriod(BaseModel):
    name: str = Field(description="daily, weekly, or the length of another cycle ('12h')")
    hours: float
    strength: float | None = Field(description="STL seasonal strength, 0 (noise) to 1 (clean cycle)")
    autocorrelation: float
    significant: bool


class Seasonality(BaseModel):
    service: str
    analyzed_at: str
    summary: str = Field(description="The cycles and peak windows in words")
    significant: list[str]
    periods: list[SeasonalPeriod]
    peaks: list[str] = Field(description="Peak windows: 'weekdays 09:00-11:00 UTC, 3.1x the nightly trough'")
    history_hours: float
    fingerprint: str = Field(description="Fingerprint of the matching finding of kind seasonality")

    @classmethod
    def of(cls, stored: StoredSeasonality) -> Seasonality:
        evidence = stored.evidence
        raw_periods = evidence.get("periods", [])
        periods = []
        for p in raw_periods if isinstance(raw_periods, list) else []:
            strength = p.get("strength")
            periods.append(
                SeasonalPeriod(
                    name=p["name"],
                    hours=p["hours"],
                    strength=None if strength is None or strength != strength else strength,
                    autocorrelation=p["autocorrelation"],
                    significant=p["significant"],
                )
            )
        peaks = evidence.get("peaks", [])
        history = evidence.get("history_hours", 0.0)
        return cls(
            service=stored.service,
            analyzed_at=rfc3339(stored.analyzed_at),
            summary=stored.summary,
            significant=list(stored.significant),
            periods=periods,
            peaks=[str(p) for p in peaks] if isinstance(peaks, list) else [],
            history_hours=float(history) if isinstance(history, int | float) else 0.0,
            fingerprint=stored.fingerprint,
        )


ALL_SERVICES = "all"


class EventIn(BaseModel):
    """A declared event: traffic expected to differ by ``multiplier`` between start and end."""

    name: str = Field(min_length=1, max_length=200, description="What it is: 'black friday sale'")
    service: str | None = Field(
        default=None,
        max_length=4096,
        description=f"The service it concerns; null or '{ALL_SERVICES}' for all",
    )
    start: datetime = Field(description="Start, RFC 3339 (UTC if no offset)")
    end: datetime = Field(description="End (exclusive), RFC 3339")
    multiplier: float = Field(
        gt=0, le=1000, description="Expected traffic relative to an ordinary day: 3 = 3x"
    )

    @field_validator("service")
    @classmethod
    def _all(cls, value: str | None) -> str | None:
        return None if value in (None, "", ALL_SERVICES) else value

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if isinstance(start, datetime) and value <= start:
            raise ValueError("end must be after start")
        return value


class EventOut(BaseModel):
    id: str
    name: str
    service: str = Field(description=f"The service, or '{ALL_SERVICES}'")
    start: str
    end: str
    multiplier: float
    created_at: str

    @classmethod
    def of(cls, stored: StoredEvent) -> EventOut:
        event = stored.event
        return cls(
            id=stored.id,
            name=event.name,
            service=event.service or ALL_SERVICES,
            start=rfc3339(event.start),
            end=rfc3339(event.end),
            multiplier=event.multiplier,
            created_at=rfc3339(stored.created_at),
        )


class EventList(BaseModel):
    events: list[EventOut]
