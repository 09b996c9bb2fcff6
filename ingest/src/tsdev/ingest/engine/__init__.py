"""The engine path: ClickHouse parses and flattens protobuf export requests on the embedded store."""

from tsdev.ingest.engine.rows import ENGINE_TABLES, CheckFirst, EngineRows, commit_in_engine

__all__ = ["ENGINE_TABLES", "CheckFirst", "EngineRows", "commit_in_engine"]
