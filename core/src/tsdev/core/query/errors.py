"""Errors the query layer raises, so that callers can map them to answers without parsing text."""

from __future__ import annotations


class QueryError(Exception):
    """Base class of every error the query layer raises on purpose."""


class InvalidParameterError(QueryError):
    """A caller-supplied value cannot be used; ``parameter`` names it so the answer can too."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"invalid parameter {parameter!r}: {message}")
        self.parameter = parameter
        self.message = message


class QueryLimitExceededError(QueryError):
    """The store stopped a query that ran past its time limit or read past its row budget.

    Stopping is deliberate: one unbounded query over months of data must not starve the
    receivers that share the engine, so the caller is asked to narrow the query instead."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit
