"""Schemas shared by several resources."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer of the native API."""

    detail: str = Field(description="What went wrong, in words meant for the user")
    parameter: str | None = Field(
        default=None, description="The request parameter at fault, when one is (400 answers)"
    )
    limit: str | None = Field(
        default=None,
        description="The query limit that stopped the query (max_execution_time, max_rows_to_read)",
    )


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "A parameter is invalid, or the query exceeded a limit"},
    401: {"model": ErrorResponse, "description": "Missing or wrong bearer token"},
}

TIME_HELP = "RFC 3339 (2024-05-01T12:00:00Z) or relative (now-1h)"
