"""ClickHouse's HTTP interface on chDB, so that server mode runs against the real engine in tests.

A ClickHouse server cannot be installed where the tests run, yet tsdev's ``http://`` DSN goes through
clickhouse-connect's HTTP client, which deserves a real peer. This module is that peer: it speaks the
parts of the HTTP interface clickhouse-connect uses and executes every statement on chDB.

It runs as a process of its own (``python -m tests.support.clickhouse_http --data-dir DIR --port N``):
chDB hosts one engine per process, bound to one data directory, and the test process already holds
the session's embedded store. A separate process can also be stopped, killed and started again on
the same directory to simulate an outage, and be shared by several receivers.

Supported: ``GET /ping``; the query in the ``query`` parameter, the body, or a multipart form;
``param_<name>`` bound parameters; ``database``; ``default_format``; settings as URL parameters
(known ones are applied to the query only, unknown ones are ignored); inserts whose data follows the
statement in the body or whose statement is in the URL (any input format chDB reads: Native, Arrow,
TabSeparated, ...); request bodies in ``Content-Encoding`` lz4, zstd, gzip or deflate; responses
compressed the same way when ``Accept-Encoding`` asks for it; sessions (``session_id``,
``session_timeout``, ``session_check``); the ``X-ClickHouse-*`` response headers and ClickHouse's error
format. Not supported: ClickHouse's own compressed blocks (``compress=1``/``decompress=1``), external
data tables, progress headers and authentication (any user is accepted).
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import gzip
import json
import logging
import os
import re
import signal
import socket
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import chdb
import lz4.frame  # type: ignore[import-untyped]
import uvicorn
from backports import zstd
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

logger = logging.getLogger("clickhouse_http")

# URL parameters that steer the HTTP layer and are never applied as settings.
TRANSPORT_PARAMETERS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "user",
        "password",
        "quota_key",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "compress",
        "decompress",
        "buffer_size",
        "wait_end_of_query",
        "client_protocol_version",
        "role",
        "enable_http_compression",
        "send_progress_in_http_headers",
        "http_headers_progress_interval_ms",
        "cancel_http_readonly_queries_on_client_close",
        "readonly",
    }
)
RESULT_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "CHECK"})
CONTENT_TYPES = {
    "Native": "application/octet-stream",
    "Arrow": "application/octet-stream",
    "ArrowStream": "application/octet-stream",
    "Parquet": "application/octet-stream",
    "RowBinary": "application/octet-stream",
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "JSON": "application/json; charset=UTF-8",
    "JSONCompact": "application/json; charset=UTF-8",
}
ENCODINGS = ("lz4", "zstd", "gzip", "deflate")
DEFAULT_SESSION_TIMEOUT_S = 60.0

_COMMENTS = re.compile(r"(--[^\n]*\n?|/\*.*?\*/)", re.DOTALL)
_TRAILING_FORMAT = re.compile(
    r"^(?P<head>.*?)\s*\bFORMAT\s+(?P<format>\w+)\s*;?\s*$", re.DOTALL | re.IGNORECASE
)
_TRAILING_VALUES = re.compile(r"^(?P<head>.*?)\s*\bVALUES\s*$", re.DOTALL | re.IGNORECASE)
# An insert statement at the start of a body, with its data after the end of the line.
_INSERT_IN_BODY = re.compile(rb"^\s*(INSERT\s.*?\bFORMAT\s+\w+)[ \t]*\r?\n", re.DOTALL | re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ERROR_CODE = re.compile(r"Code: (\d+)\.")


class ClickHouseError(Exception):
    """An error answered the way ClickHouse does: ``Code: N. DB::Exception: message (NAME)``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def new(cls, code: int, name: str, text: str) -> ClickHouseError:
        return cls(code, f"Code: {code}. DB::Exception: {text}. ({name})")

    @classmethod
    def from_engine(cls, exc: Exception) -> ClickHouseError:
        text = str(exc)
        start = text.find("Code: ")
        message = text[start:].strip() if start >= 0 else f"Code: 1001. DB::Exception: {text.strip()}"
        match = _ERROR_CODE.search(message)
        return cls(int(match.group(1)) if match else 1001, message)

    @property
    def http_status(self) -> int:
        # The subset of ClickHouse's own mapping that clients tell apart.
        if self.code in {516, 194}:
            return 401
        if self.code in {60, 81, 46}:  # UNKNOWN_TABLE, UNKNOWN_DATABASE, UNKNOWN_FUNCTION
            return 404
        if self.code in {6, 27, 36, 38, 41, 47, 53, 62, 69, 70, 72, 117, 386}:  # parsing and typing errors
            return 400
        return 500


@dataclass
class Statement:
    """One request, decoded: what to run, with which data, parameters and settings."""

    sql: str
    query_id: str
    data: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    default_format: str = "TabSeparated"
    session_id: str | None = None
    session_timeout_s: float = DEFAULT_SESSION_TIMEOUT_S
    session_check: bool = False


@dataclass
class Result:
    body: bytes
    output_format: str | None
    summary: dict[str, str]


@dataclass
class _Session:
    connection: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    expires_at: float = 0.0


def strip_comments(sql: str) -> str:
    return _COMMENTS.sub(" ", sql).strip()


def output_format(sql: str, default_format: str) -> str | None:
    """The format a statement answers in, or None for statements without a result (DDL, INSERT)."""
    text = strip_comments(sql)
    first = re.split(r"[\s(]", text.lstrip("("), maxsplit=1)[0].upper()
    if first not in RESULT_STATEMENTS:
        return None
    match = _TRAILING_FORMAT.match(text)
    return match.group("format") if match else default_format


def quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def decompress(data: bytes, encoding: str | None) -> bytes:
    if not data or not encoding or encoding == "identity":
        return data
    if encoding == "lz4":
        out = bytearray()
        while data:  # a body can hold several frames
            decompressor = lz4.frame.LZ4FrameDecompressor()
            out += decompressor.decompress(data)
            data = decompressor.unused_data or b""
        return bytes(out)
    if encoding == "zstd":
        return zstd.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    raise ClickHouseError.new(48, "NOT_IMPLEMENTED", f"Unknown HTTP content encoding {encoding!r}")


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "lz4":
        return bytes(lz4.frame.compress(data))
    if encoding == "zstd":
        return zstd.compress(data)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=3)
    return zlib.compress(data, 3)


def one_line(sql: str, limit: int = 300) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[:limit] + "..."


class Engine:
    """chDB behind the HTTP layer: a connection per request, or one per session."""

    def __init__(self, data_dir: Path) -> None:
        self.path = str(data_dir)
        # Held for the server's lifetime: the engine shuts down when its last connection closes.
        self._root = chdb.connect(self.path)
        version, timezone = self._text(self._root, "SELECT version(), timezone()").rstrip("\n").split("\t")
        self.version = version
        self.timezone = timezone
        rows = self._text(self._root, "SELECT name, value FROM system.settings FORMAT JSONEachRow")
        self.defaults = {row["name"]: row["value"] for row in map(json.loads, rows.splitlines())}
        self._sessions: dict[str, _Session] = {}
        self._sessions_lock = threading.Lock()

    @staticmethod
    def _text(connection: Any, sql: str) -> str:
        return str(connection.query(sql, "TabSeparated").bytes().decode())

    def execute(self, statement: Statement) -> Result:
        with self._connection(statement) as (connection, shared):
            undo = self._apply_context(connection, statement, shared)
            try:
                return self._run(connection, statement)
            finally:
                for sql in undo:
                    with contextlib.suppress(Exception):
                        connection.query(sql)

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions.values():
                session.connection.close()
            self._sessions.clear()
        self._root.close()

    @contextlib.contextmanager
    def _connection(self, statement: Statement) -> Iterator[tuple[Any, bool]]:
        if statement.session_id is None:
            connection = chdb.connect(self.path)
            try:
                yield connection, False
            finally:
                connection.close()
            return
        session = self._session(statement)
        try:
            yield session.connection, True
        finally:
            session.expires_at = time.monotonic() + statement.session_timeout_s
            session.lock.release()

    def _session(self, statement: Statement) -> _Session:
        assert statement.session_id is not None
        now = time.monotonic()
        with self._sessions_lock:
            for key, idle in list(self._sessions.items()):
                if idle.expires_at < now and idle.lock.acquire(blocking=False):
                    idle.connection.close()
                    del self._sessions[key]
            session = self._sessions.get(statement.session_id)
            if session is None:
                if statement.session_check:
                    raise ClickHouseError.new(
                        372, "SESSION_NOT_FOUND", f"Session {statement.session_id} not found"
                    )
                session = self._sessions[statement.session_id] = _Session(chdb.connect(self.path))
            if not session.lock.acquire(blocking=False):
                raise ClickHouseError.new(
                    373,
                    "SESSION_IS_LOCKED",
                    f"Session {statement.session_id} is locked by a concurrent client",
                )
            return session

    def _apply_context(self, connection: Any, statement: Statement, shared: bool) -> list[str]:
        """Apply the request's settings and database; on a session, return the statements that undo
        them, since URL settings belong to one query and not to the session."""
        undo: list[str] = []
        try:
            if shared and statement.settings:
                names = ", ".join(quote_string(name) for name in statement.settings)
                rows = self._text(
                    connection,
                    "SELECT name, value, changed FROM system.settings"
                    f" WHERE name IN ({names}) FORMAT JSONEachRow",
                )
                for row in map(json.loads, rows.splitlines()):
                    value = quote_string(row["value"]) if row["changed"] else "DEFAULT"
                    undo.append(f"SET {row['name']} = {value}")
            if shared and statement.database:
                undo.append(
                    f"USE {quote_identifier(self._text(connection, 'SELECT currentDatabase()').strip())}"
                )
            for name, value in statement.settings.items():
                connection.query(f"SET {name} = {quote_string(value)}")
            if statement.database:
                connection.query(f"USE {quote_identifier(statement.database)}")
        except Exception as exc:
            for sql in undo:
                with contextlib.suppress(Exception):
                    connection.query(sql)
            raise ClickHouseError.from_engine(exc) from exc
        return undo

    def _run(self, connection: Any, statement: Statement) -> Result:
        sql = statement.sql
        infile: str | None = None
        if statement.data is not None:
            sql, infile = self._insert_from_file(sql, statement.data)
        started = time.perf_counter_ns()
        try:
            result = connection.query(sql, statement.default_format, params=statement.params)
        except Exception as exc:
            raise ClickHouseError.from_engine(exc) from exc
        finally:
            if infile is not None:
                os.unlink(infile)
        body = bytes(result.bytes())
        summary = {
            "read_rows": str(result.rows_read()),
            "read_bytes": str(result.bytes_read()),
            "written_rows": str(result.rows_written()),
            "written_bytes": str(result.bytes_written()),
            "total_rows_to_read": str(result.rows_read()),
            "result_bytes": str(len(body)),
            "elapsed_ns": str(time.perf_counter_ns() - started),
        }
        return Result(body, output_format(statement.sql, statement.default_format), summary)

    @staticmethod
    def _insert_from_file(sql: str, data: bytes) -> tuple[str, str]:
        """Rewrite ``INSERT ... FORMAT F`` with data in the body as ``INSERT ... FROM INFILE``: chDB
        reads input data only from files and table functions."""
        text = sql.strip()
        match = _TRAILING_FORMAT.match(text)
        if match:
            head, input_format = match.group("head"), match.group("format")
        elif values := _TRAILING_VALUES.match(text):
            head, input_format = values.group("head"), "Values"
        else:
            raise ClickHouseError.new(
                62, "SYNTAX_ERROR", f"Data sent with a statement that takes none: {sql!r}"
            )
        if not head.upper().startswith("INSERT"):
            raise ClickHouseError.new(
                62, "SYNTAX_ERROR", f"Data sent with a statement that takes none: {sql!r}"
            )
        fd, path = tempfile.mkstemp(prefix="clickhouse-http-", suffix=f".{input_format.lower()}")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return f"{head} FROM INFILE {quote_string(path)} FORMAT {input_format}", path


def parse_request(
    method: str, params: dict[str, str], content_type: str, body: bytes, known_settings: Collection[str]
) -> Statement | None:
    """The statement a request asks for, or None for a bare ``GET /`` (which answers ``Ok.``).

    URL parameters that name a known setting apply to the query; others are ignored."""
    if content_type.startswith("multipart/form-data"):
        params = {**params, **_form_fields(content_type, body)}
        body = b""
    for flag in ("compress", "decompress"):
        if params.get(flag, "0") not in {"0", ""}:
            raise ClickHouseError.new(
                48, "NOT_IMPLEMENTED", f"{flag}=1 (ClickHouse-compressed blocks) is not supported"
            )
    query = params.get("query", "")
    data: bytes | None = None
    if query:
        if body and _is_insert(query):
            data = body
        elif body:
            query = f"{query}\n{body.decode()}"
    elif body:
        match = _INSERT_IN_BODY.match(body)
        if match and body[match.end() :]:
            query, data = match.group(1).decode(), body[match.end() :]
        else:
            query = body.decode()
    if not query.strip():
        if method == "GET":
            return None
        raise ClickHouseError.new(62, "SYNTAX_ERROR", "Empty query")
    return Statement(
        sql=query,
        query_id=params.get("query_id") or str(uuid.uuid4()),
        data=data,
        params={
            name.removeprefix("param_"): value for name, value in params.items() if name.startswith("param_")
        },
        settings={
            name: value
            for name, value in params.items()
            if name in known_settings and name not in TRANSPORT_PARAMETERS and _IDENTIFIER.match(name)
        },
        database=params.get("database") or None,
        default_format=params.get("default_format") or "TabSeparated",
        session_id=params.get("session_id") or None,
        session_timeout_s=float(params.get("session_timeout") or DEFAULT_SESSION_TIMEOUT_S),
        session_check=params.get("session_check", "0") == "1",
    )


def _is_insert(sql: str) -> bool:
    return strip_comments(sql)[:6].upper() == "INSERT"


def _form_fields(content_type: str, body: bytes) -> dict[str, str]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        if part.get_filename():
            raise ClickHouseError.new(48, "NOT_IMPLEMENTED", "External data tables are not supported")
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload.decode() if isinstance(payload, bytes) else ""
    return fields


def create_app(engine: Engine) -> Starlette:
    display_name = socket.gethostname()

    def headers(query_id: str) -> dict[str, str]:
        return {
            "X-ClickHouse-Server-Display-Name": display_name,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": engine.timezone,
        }

    async def ping(request: Request) -> Response:
        return PlainTextResponse("Ok.\n")

    async def handle(request: Request) -> Response:
        started = time.perf_counter()
        params = dict(request.query_params)
        statement: Statement | None = None
        try:
            body = decompress(await request.body(), request.headers.get("content-encoding"))
            content_type = request.headers.get("content-type", "")
            statement = parse_request(request.method, params, content_type, body, engine.defaults)
            if statement is None:
                return PlainTextResponse("Ok.\n")
            result = await run_in_threadpool(engine.execute, statement)
        except ClickHouseError as exc:
            query_id = statement.query_id if statement else params.get("query_id") or str(uuid.uuid4())
            logger.warning(
                "error %s %.1fms query_id=%s %s",
                exc.code,
                (time.perf_counter() - started) * 1000,
                query_id,
                one_line(statement.sql if statement else params.get("query", "")),
            )
            return PlainTextResponse(
                f"{exc.message} (version {engine.version})\n",
                status_code=exc.http_status,
                headers={**headers(query_id), "X-ClickHouse-Exception-Code": str(exc.code)},
            )
        logger.info(
            "ok %.1fms query_id=%s session=%s rows_read=%s rows_written=%s %s",
            (time.perf_counter() - started) * 1000,
            statement.query_id,
            statement.session_id or "-",
            result.summary["read_rows"],
            result.summary["written_rows"],
            one_line(statement.sql),
        )
        response_headers = {**headers(statement.query_id), "X-ClickHouse-Summary": json.dumps(result.summary)}
        content_type = "text/plain; charset=UTF-8"
        if result.output_format is not None:
            response_headers["X-ClickHouse-Format"] = result.output_format
            content_type = CONTENT_TYPES.get(result.output_format, content_type)
        body = result.body
        compression_on = params.get("enable_http_compression", engine.defaults.get("enable_http_compression"))
        if body and compression_on == "1":
            accepted = [
                item.split(";")[0].strip() for item in request.headers.get("accept-encoding", "").split(",")
            ]
            encoding = next((item for item in accepted if item in ENCODINGS), None)
            if encoding:
                body = compress(body, encoding)
                response_headers["Content-Encoding"] = encoding
        return Response(body, headers=response_headers, media_type=content_type)

    return Starlette(
        routes=[Route("/ping", ping, methods=["GET", "HEAD"]), Route("/", handle, methods=["GET", "POST"])]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    engine = Engine(args.data_dir)
    logger.info(
        "ClickHouse %s on chDB at %s, listening on %s:%s", engine.version, args.data_dir, args.host, args.port
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the handler installed before it
    # started: make that an ordinary exit so that the engine is closed and the exit code is 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.run(create_app(engine), host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        engine.close()
        logger.info("stopped")


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    main()
