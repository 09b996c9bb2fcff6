"""The ClickHouse store: one client for chDB (embedded) and ClickHouse servers alike."""

from tsdev.core.store.client import Store, StoreError
from tsdev.core.store.migrations import MIGRATIONS, Migration

__all__ = ["MIGRATIONS", "Migration", "Store", "StoreError"]
