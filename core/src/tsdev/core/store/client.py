"""One store for both modes: chDB in-process (``chdb://``) or a ClickHouse server (``http(s)://``).

Only clickhouse-connect is used, so the SQL and the code paths are the same for both; the only
difference is that chDB's engine is not safe to drive from several threads at once, so every call to
the client is serialised by a lock (a server connection pool would not need it, and a lock is cheap
next to a query).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import clickhouse_connect
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from tsdev.core.store.migrations import MIGRATIONS, SCHEMA_VERSION_DDL, Migration, Signal, ttl_clause
from tsdev.core.store.tables import SCHEMA_VERSION

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StoreError(RuntimeError):
    """The store could not be reached or refused a statement."""


@dataclass(frozen=True)
class Retention:
    """Days to keep each signal; 0 keeps it forever."""

    traces_days: int = 7
    logs_days: int = 7
    metrics_days: int = 30

    def days(self, signal: Signal) -> int:
        return {"traces": self.traces_days, "logs": self.logs_days, "metrics": self.metrics_days}[signal]


def redact_dsn(url: str) -> str:
    """The DSN without its password, for logs and errors."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


class Store:
    """A ClickHouse client bound to tsdev's database, with the schema migrated."""

    def __init__(self, client: Client, database: str, url: str) -> None:
        if not _IDENTIFIER.match(database):
            raise ValueError(f"invalid database name: {database!r}")
        self._client = client
        self._lock = threading.Lock()
        self.database = database
        self.url = url
        self.is_embedded = url.startswith("chdb:")

    @classmethod
    def connect(cls, url: str, database: str = "otel", retention: Retention | None = None) -> Store:
        """Open the store at ``url``, create the database and apply pending migrations."""
        try:
            client = clickhouse_connect.get_client(dsn=url)
        except Exception as exc:
            raise StoreError(f"cannot open the ClickHouse store at {redact_dsn(url)}: {exc}") from exc
        store = cls(client, database, url)
        store.migrate(retention or Retention())
        return store

    def with_database(self, database: str) -> Store:
        """A store on the same connection (and lock) that uses another database."""
        sibling = Store(self._client, database, self.url)
        sibling._lock = self._lock
        return sibling

    def table(self, name: str) -> str:
        """The qualified name of a table in tsdev's database."""
        return f"{self.database}.{name}"

    # -- statements -------------------------------------------------------------------------------

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self._lock:
            return self._client.command(sql, parameters=parameters)

    def query_rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return [tuple(row) for row in self._client.query(sql, parameters=parameters).result_rows]

    def query_arrow(
        self, sql: str, parameters: dict[str, Any] | None = None, settings: dict[str, str] | None = None
    ) -> pa.Table:
        """The result as one Arrow table; ``settings`` are ClickHouse settings for this query only
        (e.g. how ``LowCardinality`` columns are encoded)."""
        with self._lock:
            return self._client.query_arrow(sql, parameters=parameters, settings=settings)

    def release_memory(self) -> None:
        """Return memory the embedded engine has freed to the operating system.

        chDB's allocator keeps what a large result needed for its next queries, in the process that
        then goes on to work on the result (a server's memory is its own business: nothing to do)."""
        if not self.is_embedded:
            return
        try:
            self.command("SYSTEM JEMALLOC PURGE")
        except Exception as exc:  # an engine built without jemalloc: nothing to release
            logger.debug("the embedded engine kept its memory: %s", exc)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """One column-oriented insert of ``data`` into ``table`` (unqualified name)."""
        if data.num_rows == 0:
            return
        with self._lock:
            self._client.insert_arrow(self.table(table), data)

    def ping(self) -> bool:
        try:
            with self._lock:
                return bool(self._client.command("SELECT 1") == 1)
        except Exception:
            return False

    def close(self) -> None:
        with self._lock:
            self._client.close()

    # -- schema -----------------------------------------------------------------------------------

    def schema_version(self) -> int:
        return max(self.applied_versions(), default=0)

    def applied_versions(self) -> set[int]:
        # Identifiers here are validated at construction; values are always bound parameters.
        rows = self.query_rows(f"SELECT DISTINCT Version FROM {self.table(SCHEMA_VERSION)}")  # noqa: S608
        return {int(row[0]) for row in rows}

    def migrate(self, retention: Retention, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        """Apply every migration not yet recorded, in version order, then bring TTLs in line with
        ``retention``. Safe to run concurrently from several processes: every statement is idempotent.

        Recorded versions are compared as a set, not against the highest one, so a migration merged
        with a lower number than one already applied is still applied."""
        self.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self.command(SCHEMA_VERSION_DDL.format(db=self.database))
        applied = self.applied_versions()
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in applied:
                continue
            logger.info("applying schema migration %s: %s", migration.version, migration.description)
            for ddl in migration.tables:
                ttl = ttl_clause(ddl.ttl_column, retention.days(ddl.signal)) if ddl.signal else ""
                self._execute_first_accepted(ddl.statement, ttl)
            self.command(
                f"INSERT INTO {self.table(SCHEMA_VERSION)} (Version, Description) VALUES "  # noqa: S608
                "({version:UInt32}, {description:String})",
                {"version": migration.version, "description": migration.description},
            )
        for migration in migrations:
            for ddl in migration.tables:
                if ddl.signal:
                    self._apply_ttl(ddl.name, ddl.ttl_column, retention.days(ddl.signal))

    def _execute_first_accepted(self, statement: str | tuple[str, ...], ttl: str) -> None:
        alternatives = (statement,) if isinstance(statement, str) else statement
        for index, sql in enumerate(alternatives):
            try:
                self.command(sql.format(db=self.database, ttl=ttl))
                return
            except Exception as exc:
                if index == len(alternatives) - 1:
                    raise StoreError(f"schema statement failed: {exc}") from exc
                logger.info("server refused a schema alternative, trying the next: %s", exc)

    def _apply_ttl(self, table: str, column: str, days: int) -> None:
        rows = self.query_rows(
            "SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            {"db": self.database, "t": table},
        )
        if not rows:
            return
        current = re.search(r"toIntervalDay\((\d+)\)", rows[0][0])
        current_days = int(current.group(1)) if current else 0
        if current_days == days:
            return
        if days > 0:
            self.command(f"ALTER TABLE {self.table(table)} MODIFY {ttl_clause(column, days)}")
        else:
            self.command(f"ALTER TABLE {self.table(table)} REMOVE TTL")
        logger.info("retention of %s set to %s days", table, days)
