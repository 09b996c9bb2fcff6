from tsdev.core.store import MIGRATIONS, Store
from tsdev.core.store.client import Retention


def test_migrations_create_every_contract_table(fresh_store: Store) -> None:
    names = {
        row[0]
        for row in fresh_store.query_rows(
            "SELECT name FROM system.tables WHERE database = {db:String}", {"db": fresh_store.database}
        )
    }
    expected = {ddl.name for migration in MIGRATIONS for ddl in migration.tables if ddl.creates}
    assert expected <= names
    assert fresh_store.schema_version() == MIGRATIONS[-1].version


def test_migrate_twice_is_idempotent_and_updates_ttl(fresh_store: Store) -> None:
    fresh_store.migrate(Retention(traces_days=3, logs_days=0, metrics_days=30))
    engines = dict(
        fresh_store.query_rows(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            {"db": fresh_store.database},
        )
    )
    assert "toIntervalDay(3)" in engines["otel_traces"]
    for derived in ("tsdev_trace_summary", "tsdev_service_kind_red_1m", "tsdev_service_kind_red_1h"):
        assert "toIntervalDay(3)" in engines[derived]  # kept as long as the spans they come from
    assert "TTL" not in engines["otel_logs"]
    assert "toIntervalDay(30)" in engines["otel_metrics_sum"]
    versions = fresh_store.query_rows(
        f"SELECT count() FROM {fresh_store.table('tsdev_schema_version')} FINAL"
    )
    assert versions[0][0] == len(MIGRATIONS)
