"""``tsdev serve``: receivers, API and jobs in one process, or one role of them (``--role``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tsdev.cli.output import EXIT_USAGE, abort

if TYPE_CHECKING:
    from pydantic import ValidationError


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind [env: TSDEV_HOST; default 127.0.0.1]")
    ] = None,
    otlp_grpc_port: Annotated[
        int | None,
        typer.Option("--otlp-grpc-port", help="OTLP/gRPC port [env: TSDEV_OTLP_GRPC_PORT; default 4317]"),
    ] = None,
    otlp_http_port: Annotated[
        int | None,
        typer.Option("--otlp-http-port", help="OTLP/HTTP port [env: TSDEV_OTLP_HTTP_PORT; default 4318]"),
    ] = None,
    api_port: Annotated[
        int | None, typer.Option(help="HTTP API port [env: TSDEV_API_PORT; default 8080]")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="What to run: all (receivers, API and jobs), ingest (OTLP receivers; health on the API "
            "port) or api (API and jobs); ingest and api need a ClickHouse server "
            "[env: TSDEV_ROLE; default all]",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory [env: TSDEV_DATA_DIR; default: the user data dir]")
    ] = None,
    clickhouse_url: Annotated[
        str | None,
        typer.Option(help="ClickHouse DSN, chdb:///path or http://host:8123 [env: TSDEV_CLICKHOUSE_URL]"),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error [env: TSDEV_LOG_LEVEL; default info]")
    ] = None,
) -> None:
    """Run tsdev: OTLP receivers and HTTP API, storing into ClickHouse (embedded chDB by default)."""
    from pydantic import ValidationError

    from tsdev.core.settings import load_settings
    from tsdev.core.store import StoreError
    from tsdev.server.logging import configure_logging
    from tsdev.server.roles import RoleError
    from tsdev.server.serve import serve as run_server

    try:
        settings = load_settings(
            host=host,
            otlp_grpc_port=otlp_grpc_port,
            otlp_http_port=otlp_http_port,
            api_port=api_port,
            role=role,
            data_dir=data_dir,
            clickhouse_url=clickhouse_url,
            log_level=log_level,
        )
    except ValidationError as exc:
        abort(_invalid_settings(exc), EXIT_USAGE)
    configure_logging(settings.log_level)
    try:
        run_server(settings)
    except RoleError as exc:
        abort(str(exc), EXIT_USAGE)
    except StoreError as exc:
        abort(str(exc))


def _invalid_settings(exc: ValidationError) -> str:
    """One line per refused value, naming the setting as users write it: its variable, and its flag
    when ``tsdev serve`` has one."""
    flags = inspect.signature(serve).parameters
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        name = f"TSDEV_{field.upper()}"
        if field in flags:
            name += f" (--{field.replace('_', '-')})"
        lines.append(f"invalid setting {name}: {error['msg']}, got {error.get('input')!r}")
    return "\n".join(lines)
