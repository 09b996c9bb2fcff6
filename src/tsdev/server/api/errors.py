"""Error answers: 400 naming the parameter, in the native or the Jaeger shape depending on the path.

FastAPI answers invalid parameters with 422 and a list of locations; clients (and the issue's
contract) expect 400 with the parameter named, so validation errors are converted here. Jaeger
clients read errors from the ``errors`` array of Jaeger's envelope, so answers under ``/jaeger`` use
that shape instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tsdev.core.query import InvalidParameterError, QueryLimitExceededError

JAEGER_PREFIX = "/jaeger"


def error_response(request: Request, status: int, detail: str, **extra: Any) -> JSONResponse:
    if request.url.path.startswith(JAEGER_PREFIX):
        body: dict[str, Any] = {
            "data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": status, "msg": detail}],
        }  # fmt: skip
        return JSONResponse(body, status_code=status)
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def _parameter_of(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ())]
    return location[-1] if len(location) > 1 else ".".join(location) or "request"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    parameter = _parameter_of(first)
    message = str(first.get("msg", "invalid value"))
    return error_response(request, 400, f"invalid parameter {parameter!r}: {message}", parameter=parameter)


async def _invalid_parameter(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidParameterError)
    return error_response(request, 400, str(exc), parameter=exc.parameter)


async def _limit_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueryLimitExceededError)
    return error_response(request, 400, str(exc), limit=exc.limit)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidParameterError, _invalid_parameter)
    app.add_exception_handler(QueryLimitExceededError, _limit_exceeded)
