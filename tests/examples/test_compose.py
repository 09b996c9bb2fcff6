"""What can be checked of docker-compose.yml and the Dockerfile without a Docker engine.

Validated: the compose file against a subset of the Compose specification's schema
(:mod:`tests.examples.compose_schema`); each tsdev service's command and options against the CLI's
``--help``; the role each ``tsdev serve`` runs; each ``TSDEV_*`` variable against the documented
settings; published ports, health checks and the URLs services use to reach each other; Grafana's
provisioned data sources; the Dockerfile's stages, user, health check and install steps against the
Makefile's (the README's install).
Not validated: that images build and the stack starts, which needs Docker.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from typer.testing import CliRunner

from tests.examples.compose_schema import COMPOSE_SCHEMA
from tsdev.cli.main import app
from tsdev.core import environment_variables
from tsdev.core.settings import Settings
from tsdev.server.roles import parts_of

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DATASOURCES = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/tsdev.yaml").read_text())


def _tsdev_services() -> list[str]:
    return [
        n
        for n, s in SERVICES.items()
        if s.get("build", {}).get("target") == "tsdev" or s.get("image") == "tsdev:latest"
    ]


def _interpolated(value: object) -> str:
    """``value`` as Compose gives it with no variable set in the shell: ``${NAME:-default}`` is the
    default, ``${NAME}`` empty."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda match: match.group(1) or "", str(value))


def _env(service: str) -> dict[str, str]:
    return {k: _interpolated(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def _published(service: str) -> dict[int, int]:
    """Container port -> host port."""
    pairs = (p.split("/")[0].split(":")[-2:] for p in SERVICES[service].get("ports", []))
    return {int(container): int(host) for host, container in pairs}


def _health_url(service: str) -> str:
    test = " ".join(SERVICES[service]["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", test)
    assert match, f"{service}: no URL in its health check"
    return match.group(0)


def test_compose_file_validates_against_the_compose_schema() -> None:
    jsonschema.validate(COMPOSE, COMPOSE_SCHEMA)


def test_the_schema_refuses_what_the_specification_does_not_define() -> None:
    broken = {"services": {"a": {"image": "x", "healthcheck": {"test": ["CMD", "true"], "intervall": "5s"}}}}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, COMPOSE_SCHEMA)


def test_the_stack_has_every_part_of_the_distributed_mode() -> None:
    images = " ".join(str(s.get("image", "")) for s in SERVICES.values())
    assert "clickhouse/clickhouse-server" in images
    assert "redis" in images
    assert "grafana/grafana" in images
    commands = {n: SERVICES[n]["command"][0] for n in _tsdev_services()}
    assert sorted(commands.values()) == ["beat", "serve", "serve", "worker"]
    assert SERVICES["shop"]["build"]["target"] == "shop"
    assert SERVICES["shop-traffic"]["command"][0] == "traffic"
    assert any(v.startswith("clickhouse-data:") for v in SERVICES["clickhouse"]["volumes"])


@pytest.mark.parametrize("service", _tsdev_services())
def test_each_tsdev_command_and_option_exists_in_the_cli(service: str) -> None:
    command = SERVICES[service]["command"]
    result = CliRunner().invoke(app, [command[0], "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for option in (word.split("=")[0] for word in command[1:] if word.startswith("-")):
        assert option in result.output, f"{service}: tsdev {command[0]} has no {option}"


def _role(service: str) -> str:
    """The ``--role`` of a ``tsdev serve`` service, else its ``TSDEV_ROLE``, else the default."""
    command = SERVICES[service]["command"]
    if "--role" in command:
        return str(command[command.index("--role") + 1])
    return _env(service).get("TSDEV_ROLE", "all")


def _settings(service: str) -> Settings:
    """The settings ``tsdev serve`` builds in ``service`` from its environment and ``--role``."""
    env = {k.removeprefix("TSDEV_").lower(): v for k, v in _env(service).items() if k.startswith("TSDEV_")}
    return Settings.model_validate({**env, "role": _role(service)})


def test_ingest_and_api_services_run_their_own_role_against_the_clickhouse_server() -> None:
    ingest, api = _settings("tsdev-ingest"), _settings("tsdev-api")

    assert (ingest.role, api.role) == ("ingest", "api")
    assert parts_of(ingest).receivers and not parts_of(ingest).full_api
    assert parts_of(api).full_api and not parts_of(api).receivers
    assert not parts_of(api).jobs, "with TSDEV_REDIS_URL, Celery runs the jobs"
    assert not ingest.effective_clickhouse_url.startswith("chdb:")


def test_every_tsdev_variable_is_a_documented_setting() -> None:
    used = {name for service in SERVICES for name in _env(service) if name.startswith("TSDEV_")}
    used |= set(re.findall(r"\bTSDEV_[A-Z0-9_]+", DOCKERFILE))

    assert used
    assert used <= set(environment_variables.ALL), used - set(environment_variables.ALL)


def test_clickhouse_and_redis_urls_name_their_services() -> None:
    for service in _tsdev_services():
        env = _env(service)
        clickhouse = urlsplit(env["TSDEV_CLICKHOUSE_URL"].replace("${CLICKHOUSE_PASSWORD:-tsdev}", "pw"))
        assert (clickhouse.hostname, clickhouse.port) == ("clickhouse", 8123)
        assert clickhouse.username == SERVICES["clickhouse"]["environment"]["CLICKHOUSE_USER"]
        redis = urlsplit(env["TSDEV_REDIS_URL"])
        assert (redis.hostname, redis.port) == ("redis", 6379)


def test_published_ports_are_the_ports_tsdev_listens_on() -> None:
    ingest, api = _env("tsdev-ingest"), _env("tsdev-api")

    assert _published("tsdev-ingest") == {
        int(ingest["TSDEV_OTLP_GRPC_PORT"]): 4317,
        int(ingest["TSDEV_OTLP_HTTP_PORT"]): 4318,
    }
    assert _published("tsdev-api") == {int(api["TSDEV_API_PORT"]): 8080}
    assert _published("shop") == {int(_env("shop")["SHOP_PORT"]): 8000}


def test_health_checks_probe_the_port_the_service_listens_on() -> None:
    from tsdev.server.api.routes import health

    ingest_health = _health_url("tsdev-ingest")
    assert ingest_health.startswith(f"http://127.0.0.1:{_env('tsdev-ingest')['TSDEV_API_PORT']}/")
    # The ingest role serves only the health router on its API port: the probe must be one of its paths.
    assert urlsplit(ingest_health).path in {getattr(r, "path", "") for r in health.router.routes}
    assert _health_url("tsdev-api") == f"http://127.0.0.1:{_env('tsdev-api')['TSDEV_API_PORT']}/readyz"
    assert _health_url("shop") == f"http://127.0.0.1:{_env('shop')['SHOP_PORT']}/healthz"
    assert "8123/ping" in " ".join(SERVICES["clickhouse"]["healthcheck"]["test"])


def test_services_waited_for_as_healthy_have_a_health_check() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                check = SERVICES[dependency].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{name} waits for {dependency}"


def test_the_shop_and_grafana_reach_tsdev_where_it_listens() -> None:
    otlp = urlsplit(_env("shop")["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (otlp.hostname, otlp.port) == ("tsdev-ingest", int(_env("tsdev-ingest")["TSDEV_OTLP_HTTP_PORT"]))
    traffic = SERVICES["shop-traffic"]["command"]
    target = urlsplit(traffic[traffic.index("--target") + 1])
    assert (target.hostname, target.port) == ("shop", int(_env("shop")["SHOP_PORT"]))

    sources = {d["type"]: d for d in DATASOURCES["datasources"]}
    jaeger = urlsplit(sources["jaeger"]["url"])
    assert (jaeger.hostname, jaeger.port, jaeger.path) == (
        "tsdev-api",
        int(_env("tsdev-api")["TSDEV_API_PORT"]),
        "/jaeger",
    )
    clickhouse = sources["grafana-clickhouse-datasource"]["jsonData"]
    assert (clickhouse["host"], clickhouse["port"], clickhouse["protocol"]) == ("clickhouse", 8123, "http")
    assert clickhouse["traces"]["defaultTable"] == "otel_traces" and clickhouse["traces"]["otelEnabled"]
    assert clickhouse["logs"]["defaultTable"] == "otel_logs" and clickhouse["logs"]["otelEnabled"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in SERVICES["grafana"]["volumes"]


def test_the_jaeger_api_grafana_uses_is_served_by_tsdev() -> None:
    from tsdev.server.api.routes import jaeger

    paths = {getattr(r, "path", "") for r in jaeger.router.routes}
    assert {"/jaeger/api/services", "/jaeger/api/traces"} <= paths


def _stages() -> list[tuple[str, str]]:
    return re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)


def _run_steps() -> list[str]:
    return [" ".join(line.split()) for line in re.findall(r"^RUN\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)]


def test_dockerfile_is_multi_stage_slim_and_runs_as_a_user_with_a_health_check() -> None:
    stages = dict((alias, base) for base, alias in _stages())
    assert {"build", "runtime", "shop", "tsdev"} <= set(stages)
    assert stages["runtime"].endswith("-slim")
    assert _stages()[-1] == ("runtime", "tsdev"), "the default target must be the tsdev image"
    runtime = DOCKERFILE.split("AS runtime", 1)[1].split("\nFROM ", 1)[0]
    user = re.search(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert user and user.group(1) not in {"root", "0"}
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert re.search(r'^ENTRYPOINT \["tsdev"\]', runtime, flags=re.MULTILINE)
    for target in {s["build"]["target"] for s in SERVICES.values() if isinstance(s.get("build"), dict)}:
        assert target in stages


def test_dockerfile_installs_the_way_the_readme_does() -> None:
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    sync = re.search(r"^sync:.*\n\t\$\(UV\) (.+)$", makefile, flags=re.MULTILINE)
    bootstrap = re.search(r"pip install .*\buv\b", makefile)
    assert sync and bootstrap
    assert "make serve" in readme and "installed from PyPI" in readme  # the steps `make serve` runs

    runs = _run_steps()
    assert any(re.search(r"pip install (--\S+ )*uv$", r) for r in runs), runs
    assert any(r.startswith(f"uv {sync.group(1)}") for r in runs), (sync.group(1), runs)


def test_dockerfile_copies_every_workspace_member_and_only_existing_paths() -> None:
    import tomllib

    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    copies = re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+\S+$", DOCKERFILE, flags=re.MULTILINE)
    sources = {s for line in copies for s in shlex.split(line)}
    assert set(members) <= sources
    assert {"pyproject.toml", "uv.lock", "src"} <= sources
    for source in sources:
        assert (ROOT / source).exists(), source
