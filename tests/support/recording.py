"""A store that remembers the statements run through it, so a test or bench can explain exactly what
the query layer ran."""

from __future__ import annotations

from typing import Any

from tsdev.core.store import Store


class RecordingStore:
    """Wraps a :class:`Store`; every ``query_rows`` call is kept in :attr:`statements`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.statements: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query_rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self.statements.append((sql, dict(parameters or {})))
        return self._store.query_rows(sql, parameters)
