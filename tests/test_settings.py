import ast
import itertools
from pathlib import Path

import pytest
from pydantic import ValidationError

from tsdev.core import environment_variables
from tsdev.core.settings import Settings, load_settings


def test_every_setting_has_a_documented_variable() -> None:
    documented = set(environment_variables.ALL)
    for field in Settings.model_fields:
        assert f"TSDEV_{field.upper()}" in documented, field
    body = ast.parse(Path(environment_variables.__file__).read_text()).body
    docstrings = {
        statement.targets[0].id: str(following.value.value)
        for statement, following in itertools.pairwise(body)
        if isinstance(statement, ast.Assign)
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
    }
    for name in documented:
        assert getattr(environment_variables, name) == name
        assert "default" in docstrings.get(name, "").lower(), name


def test_flags_override_environment_which_overrides_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("TSDEV_API_PORT", "9001")
    monkeypatch.setenv("TSDEV_OTLP_HTTP_PORT", "9002")
    monkeypatch.setenv("TSDEV_INGEST_TOKENS", " a , b,,")
    monkeypatch.setenv("TSDEV_LOG_LEVEL", "DEBUG")
    settings = load_settings(api_port=7000, data_dir=tmp_path, host=None)
    assert settings.api_port == 7000
    assert settings.otlp_http_port == 9002
    assert settings.host == "127.0.0.1"
    assert settings.ingest_tokens == ("a", "b")
    assert settings.log_level == "debug"
    assert settings.effective_clickhouse_url == f"chdb://{tmp_path.resolve()}/clickhouse"
    assert "<2 tokens>" in repr(settings)
    assert "'a'" not in repr(settings)


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSDEV_CLICKHOUSE_DATABASE", "otel; DROP TABLE x")
    with pytest.raises(ValidationError, match="clickhouse_database"):
        load_settings()
    monkeypatch.delenv("TSDEV_CLICKHOUSE_DATABASE")
    with pytest.raises(ValidationError, match="api_port"):
        load_settings(api_port=70000)


def test_role_defaults_to_all_reads_any_case_and_refuses_unknown_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TSDEV_ROLE", raising=False)
    assert load_settings().role == "all"
    monkeypatch.setenv("TSDEV_ROLE", "Ingest")
    assert load_settings().role == "ingest"
    assert load_settings(role="api").role == "api"
    monkeypatch.setenv("TSDEV_ROLE", "ingester")
    with pytest.raises(ValidationError, match="role"):
        load_settings()
