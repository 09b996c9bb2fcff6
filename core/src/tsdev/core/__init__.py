"""Settings, the ClickHouse store (schema, migrations, client) and models shared by every part of tsdev."""

from tsdev.core.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
