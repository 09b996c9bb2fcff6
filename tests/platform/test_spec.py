"""The app spec: valid specs load, and each mistake names the field at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tsdev.platform.spec import SpecError, load_spec, parse_spec

VALID: dict[str, Any] = {
    "name": "checkout",
    "image": "ghcr.io/acme/checkout:1.0",
    "scaling": {"min_replicas": 2, "max_replicas": 8, "target_rps_per_replica": 50},
}


def _error(data: object) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(data, "tsdev.yaml")
    return str(caught.value)


def test_a_valid_spec_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tsdev.yaml"
    path.write_text(
        "name: checkout\nimage: ghcr.io/acme/checkout:1.0\n"
        "env: {LOG_LEVEL: info}\nsecrets: [{name: DB_PASSWORD, secret: db, key: password}]\n"
        "scaling: {min_replicas: 2, max_replicas: 8, target_rps_per_replica: 50, quantile: 0.95}\n"
    )
    spec = load_spec(path)
    assert spec.scaling.quantile == 0.95
    assert spec.scaling.lead_seconds == 180
    assert spec.secrets[0].secret == "db"
    assert spec.forecast_service == "checkout"


def test_unknown_fields_are_named_with_their_path() -> None:
    message = _error({**VALID, "scaling": {**VALID["scaling"], "max_replica": 3}})
    assert "scaling.max_replica: unknown field" in message


def test_a_bad_value_is_named_with_its_path() -> None:
    assert "scaling.quantile: " in _error({**VALID, "scaling": {**VALID["scaling"], "quantile": 1.5}})
    assert "port: " in _error({**VALID, "port": 70000})
    assert "secrets[0].name: " in _error({**VALID, "secrets": [{"name": "1 bad", "secret": "s", "key": "k"}]})


def test_max_below_min_is_refused() -> None:
    message = _error({**VALID, "scaling": {**VALID["scaling"], "min_replicas": 5, "max_replicas": 2}})
    assert "scaling: max_replicas (2) is below min_replicas (5)" in message


def test_predictive_scaling_needs_a_requests_target() -> None:
    message = _error({**VALID, "scaling": {"target_cpu_percent": 70, "predictive": True}})
    assert "needs target_rps_per_replica" in message


def test_name_must_be_a_dns_label_and_image_is_required() -> None:
    message = _error({"name": "Checkout_Service"})
    assert "name: " in message and "DNS label" in message
    assert "image: Field required" in message


def test_yaml_errors_and_non_mappings_are_spec_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)
    path.write_text("- a list\n")
    with pytest.raises(SpecError, match="mapping"):
        load_spec(path)


def test_overrides_are_validated_again() -> None:
    spec = parse_spec(VALID)
    assert spec.with_overrides(image="x:2", namespace="prod").namespace == "prod"
    with pytest.raises(SpecError, match="namespace"):
        spec.with_overrides(namespace="Not_A_Label")
