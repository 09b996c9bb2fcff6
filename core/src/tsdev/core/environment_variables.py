"""Every environment variable tsdev reads, declared once.

Settings read only these names (see :mod:`tsdev.core.settings`). Precedence is: explicit CLI flag or
argument, then the variable, then the documented default.
"""

TSDEV_DATA_DIR = "TSDEV_DATA_DIR"
"""Directory for tsdev's own files (the embedded ClickHouse store among them).

Default: the user's data directory, for example ``~/.local/share/tsdev`` on Linux."""

TSDEV_CLICKHOUSE_URL = "TSDEV_CLICKHOUSE_URL"
"""ClickHouse DSN. ``chdb:///path`` runs the ClickHouse engine in-process (embedded mode);
``http://user:password@host:8123`` or ``https://...`` uses a ClickHouse server.

Default: ``chdb:///<data dir>/clickhouse``."""

TSDEV_CLICKHOUSE_DATABASE = "TSDEV_CLICKHOUSE_DATABASE"
"""Database that holds the OpenTelemetry and tsdev tables. Default: ``otel``."""

TSDEV_TRACES_TTL_DAYS = "TSDEV_TRACES_TTL_DAYS"
"""Retention of spans, in days (0 keeps them forever). Default: 7."""

TSDEV_LOGS_TTL_DAYS = "TSDEV_LOGS_TTL_DAYS"
"""Retention of log records, in days (0 keeps them forever). Default: 7."""

TSDEV_METRICS_TTL_DAYS = "TSDEV_METRICS_TTL_DAYS"
"""Retention of metric data points, in days (0 keeps them forever). Default: 30."""

TSDEV_HOST = "TSDEV_HOST"
"""Address the receivers and the API bind to. Default: ``127.0.0.1``."""

TSDEV_OTLP_GRPC_PORT = "TSDEV_OTLP_GRPC_PORT"
"""Port of the OTLP/gRPC receiver. Default: 4317."""

TSDEV_OTLP_HTTP_PORT = "TSDEV_OTLP_HTTP_PORT"
"""Port of the OTLP/HTTP receiver (protobuf and JSON). Default: 4318."""

TSDEV_API_PORT = "TSDEV_API_PORT"
"""Port of the HTTP API (health, version, self-metrics, search). Default: 8080."""

TSDEV_ROLE = "TSDEV_ROLE"
"""What one ``tsdev serve`` process runs: ``all`` (the OTLP receivers, the API and, without
``TSDEV_REDIS_URL``, the analysis jobs), ``ingest`` (only the OTLP receivers, with health, readiness,
version and self-metrics on the API port) or ``api`` (the API and, without ``TSDEV_REDIS_URL``, the
analysis jobs; no receivers). ``ingest`` and ``api`` need a ClickHouse server DSN: the embedded store
allows one process per data directory. Default: ``all``."""

TSDEV_MAX_REQUEST_BYTES = "TSDEV_MAX_REQUEST_BYTES"
"""Largest OTLP request body accepted, in bytes, after decompression (HTTP) or gRPC message. Larger
bodies get HTTP 413 or gRPC RESOURCE_EXHAUSTED.
Default: 67108864 (64 MiB)."""

TSDEV_MAX_INFLIGHT_BYTES = "TSDEV_MAX_INFLIGHT_BYTES"
"""Budget of request bytes being decoded or waiting for their commit, across all receivers. Past it,
requests are refused with HTTP 429 or gRPC UNAVAILABLE (both saying when to retry) instead of growing
memory. Default: 268435456 (256 MiB)."""

TSDEV_MAX_QUEUED_ROWS = "TSDEV_MAX_QUEUED_ROWS"
"""Most rows that may wait for the store at once; past it, requests are refused like above.
Default: 1000000."""

TSDEV_BATCH_MAX_ROWS = "TSDEV_BATCH_MAX_ROWS"
"""Most rows one insert into a table may carry; concurrent requests share a batch up to this size.
Default: 100000."""

TSDEV_BATCH_LINGER_SECONDS = "TSDEV_BATCH_LINGER_SECONDS"
"""Under load, how long the writer waits for as many requests as its previous batch held before it
inserts what it has (an idle server never waits). Default: 0.03."""

TSDEV_INGEST_ENGINE_DECODE = "TSDEV_INGEST_ENGINE_DECODE"
"""On the embedded store, let ClickHouse parse and flatten OTLP/protobuf trace and log requests itself
(about three times the end-to-end rate of decoding them in Python in ``bench/ingest.py``, with the
same stored result); requests it cannot render identically still take the Python decoder. Set to
``false`` to decode everything in Python. No effect with a ClickHouse server. Default: true."""

TSDEV_SPOOL_DIR = "TSDEV_SPOOL_DIR"
"""Directory of the on-disk spool that keeps batches the store could not take until it answers again.
Default: ``<data dir>/spool``."""

TSDEV_SPOOL_MAX_BYTES = "TSDEV_SPOOL_MAX_BYTES"
"""Largest size of the spool; when it is full the receivers push back (HTTP 503, gRPC UNAVAILABLE)
rather than accept what they cannot keep. Default: 1073741824 (1 GiB)."""

TSDEV_INGEST_TOKENS = "TSDEV_INGEST_TOKENS"
"""Comma-separated bearer tokens accepted by the OTLP receivers. Empty (the default) disables auth."""

TSDEV_API_TOKENS = "TSDEV_API_TOKENS"
"""Comma-separated bearer tokens accepted by the HTTP API. Empty (the default) disables auth.
Health, readiness and version endpoints never need a token."""

TSDEV_LOG_LEVEL = "TSDEV_LOG_LEVEL"
"""Level of tsdev's own structured log: debug, info, warning or error. Default: info."""

TSDEV_SERVER = "TSDEV_SERVER"
"""Base URL of the tsdev API that CLI commands talk to. Default: ``http://127.0.0.1:8080``."""

TSDEV_TOKEN = "TSDEV_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""Bearer token the CLI sends to the API. Default: none."""

ANTHROPIC_API_KEY = "ANTHROPIC_API_KEY"
"""API key of the Anthropic Messages API. When set, the advisor asks a model for patches; without it
(the default) it uses its deterministic codemods only. Never logged nor put into prompts."""

ANTHROPIC_BASE_URL = "ANTHROPIC_BASE_URL"
"""Base URL of the Anthropic API, for a proxy or gateway. Default: ``https://api.anthropic.com``."""

TSDEV_ADVISOR_MODEL = "TSDEV_ADVISOR_MODEL"
"""Model the advisor asks for patches. Default: ``claude-sonnet-4-6``."""

TSDEV_ADVISOR_MAX_TOKENS = "TSDEV_ADVISOR_MAX_TOKENS"
"""Most output tokens of one patch request. Default: 8192."""

TSDEV_ADVISOR_CONTEXT_CHARS = "TSDEV_ADVISOR_CONTEXT_CHARS"
"""Most characters of source code put into one patch request (the rest is cut). Default: 60000."""

TSDEV_ADVISOR_TIMEOUT_S = "TSDEV_ADVISOR_TIMEOUT_S"
"""Timeout of one model request, in seconds. Default: 120."""

TSDEV_ADVISOR_MAX_RETRIES = "TSDEV_ADVISOR_MAX_RETRIES"
"""Retries of a model request refused with 429, 5xx or a connection error (the SDK backs off and honours
``retry-after``). Default: 3."""

TSDEV_ADVISOR_SCHEDULE_REPO = "TSDEV_ADVISOR_SCHEDULE_REPO"
"""Repository (``owner/name``) the scheduled advisor opens pull requests on: after each analysis pass,
open findings above ``TSDEV_ADVISOR_MIN_SAVING_MS_PER_HOUR`` without a pull request are advised, and
the state of the advisor's pull requests is read back. Default: empty (the scheduled mode is off)."""

TSDEV_ADVISOR_MIN_SAVING_MS_PER_HOUR = "TSDEV_ADVISOR_MIN_SAVING_MS_PER_HOUR"
"""Smallest estimated saving (milliseconds per hour of traffic) of a finding the scheduled advisor
proposes a fix for. Default: 60000 (a minute per hour)."""

TSDEV_GITHUB_TOKEN = "TSDEV_GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""Token the advisor opens pull requests with (contents, pull requests and issues write). Falls back to
``GITHUB_TOKEN``. Default: none (dry runs only)."""

GITHUB_TOKEN = "GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""General GitHub token, read when ``TSDEV_GITHUB_TOKEN`` is unset. Default: none."""

TSDEV_GITHUB_API_URL = "TSDEV_GITHUB_API_URL"
"""GitHub REST API base URL; for GitHub Enterprise Server ``https://HOST/api/v3``.
Default: ``https://api.github.com``."""

TSDEV_ANALYSIS_INTERVAL_SECONDS = "TSDEV_ANALYSIS_INTERVAL_SECONDS"
"""Seconds between two incremental analysis passes (detectors over the spans stored since the last
pass). In embedded mode ``tsdev serve`` runs them in-process; in distributed mode Celery beat
schedules them. 0 turns the embedded schedule off. Default: 300 (5 minutes)."""

TSDEV_REDIS_URL = "TSDEV_REDIS_URL"
"""Redis URL (``redis://host:6379/0``) of the Celery broker and result store. Setting it selects
distributed mode: ``tsdev serve`` stops running analysis in-process and ``tsdev worker`` and
``tsdev beat`` run it instead. Default: empty (embedded mode)."""

TSDEV_FORECAST_COUNTER_METRIC = "TSDEV_FORECAST_COUNTER_METRIC"
"""Name of a monotonic Sum metric that counts requests (``http.server.requests``, say). When set,
forecasts and seasonality (the refit job, the API and the CLI) use its increase per minute per
service instead of the count of server spans; delta and cumulative temporality are both read, and
counter resets are treated as restarts from zero. Default: empty (server spans)."""

TSDEV_FORECAST_COUNTER_SERVICE_ATTRIBUTE = "TSDEV_FORECAST_COUNTER_SERVICE_ATTRIBUTE"
"""Attribute of the counter's data points (or, failing that, of their resource) that names the
service. Default: ``service.name`` (the resource's service name)."""

TSDEV_FORECAST_COUNTER_OPERATION_ATTRIBUTE = "TSDEV_FORECAST_COUNTER_OPERATION_ATTRIBUTE"
"""Attribute of the counter's data points (or of their resource) that names the operation, for
forecasts of one operation. Default: ``http.route``."""

TSDEV_FORECAST_TIMEZONE = "TSDEV_FORECAST_TIMEZONE"
"""Time zone (IANA name: ``America/New_York``) whose wall clock the services' traffic follows,
optionally followed by services that follow another (``America/New_York,checkout=Europe/Berlin``).
Forecasts are fitted on that clock, so a daily peak that moves by an hour in UTC when daylight saving
time starts or ends stays where the models expect it; stored forecasts and the API stay in UTC.
Default: ``UTC``."""

ALL = [
    TSDEV_DATA_DIR,
    TSDEV_CLICKHOUSE_URL,
    TSDEV_CLICKHOUSE_DATABASE,
    TSDEV_TRACES_TTL_DAYS,
    TSDEV_LOGS_TTL_DAYS,
    TSDEV_METRICS_TTL_DAYS,
    TSDEV_HOST,
    TSDEV_OTLP_GRPC_PORT,
    TSDEV_OTLP_HTTP_PORT,
    TSDEV_API_PORT,
    TSDEV_ROLE,
    TSDEV_MAX_REQUEST_BYTES,
    TSDEV_MAX_INFLIGHT_BYTES,
    TSDEV_MAX_QUEUED_ROWS,
    TSDEV_BATCH_MAX_ROWS,
    TSDEV_BATCH_LINGER_SECONDS,
    TSDEV_INGEST_ENGINE_DECODE,
    TSDEV_SPOOL_DIR,
    TSDEV_SPOOL_MAX_BYTES,
    TSDEV_INGEST_TOKENS,
    TSDEV_API_TOKENS,
    TSDEV_LOG_LEVEL,
    TSDEV_SERVER,
    TSDEV_TOKEN,
    TSDEV_ANALYSIS_INTERVAL_SECONDS,
    TSDEV_REDIS_URL,
    TSDEV_FORECAST_COUNTER_METRIC,
    TSDEV_FORECAST_COUNTER_SERVICE_ATTRIBUTE,
    TSDEV_FORECAST_COUNTER_OPERATION_ATTRIBUTE,
    TSDEV_FORECAST_TIMEZONE,
    ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL,
    TSDEV_ADVISOR_MODEL,
    TSDEV_ADVISOR_MAX_TOKENS,
    TSDEV_ADVISOR_CONTEXT_CHARS,
    TSDEV_ADVISOR_TIMEOUT_S,
    TSDEV_ADVISOR_MAX_RETRIES,
    TSDEV_ADVISOR_SCHEDULE_REPO,
    TSDEV_ADVISOR_MIN_SAVING_MS_PER_HOUR,
    TSDEV_GITHUB_TOKEN,
    GITHUB_TOKEN,
    TSDEV_GITHUB_API_URL,
]
