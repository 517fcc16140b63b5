"""One place that turns every error into `{"error": {"code", "message"}}` with its status:
the domain errors of `index.errors` by `STATUS`, and the service's own (a missing key,
writes disabled) defined here."""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from index.encoder import ModelNotFound
from index.errors import (
    BadRequest,
    DataDirLocked,
    IndexMismatch,
    NotFound,
    NotReady,
    ParallaxError,
)

log = logging.getLogger(__name__)


class Unauthorized(ParallaxError):
    """A wrong or missing bearer key."""

    code = "unauthorized"


class Forbidden(ParallaxError):
    """Writes are disabled: no key is configured."""

    code = "forbidden"


# The HTTP status of each error; a subclass takes its nearest listed base's.
STATUS: dict[type[ParallaxError], int] = {
    BadRequest: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    DataDirLocked: 409,
    NotReady: 503,
    IndexMismatch: 503,
    ModelNotFound: 503,
}


# Seconds a client is told to wait (Retry-After) when the index is not ready to serve.
RETRY_AFTER_LOADING = "5"


def status_of(error: ParallaxError) -> int:
    """The status an error is answered with (500 for one no entry covers)."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]  # type: ignore[index]
    return 500


def error_response(status: int, code: str, message: str) -> JSONResponse:
    # Every 503 says when to try again, as the published schema promises.
    headers = {"Retry-After": RETRY_AFTER_LOADING} if status == 503 else None
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParallaxError)
    async def domain_error(request: Request, exc: ParallaxError) -> JSONResponse:
        return error_response(status_of(exc), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", describe_validation(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 400 and "parsing the body" in message:
            # Starlette's words for bytes that are not UTF-8: say what to send instead.
            code, message = "invalid_body", "the body is not UTF-8 JSON; send a UTF-8 JSON object"
        response = error_response(exc.status_code, code, message)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route for the path only;
            # a path served by two routes (GET and DELETE /documents/{id}) allows both.
            given = response.headers.get("Allow", "")
            response.headers["Allow"] = _allowed_methods(request, given)
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # The detail stays in the server log; the client gets an id to quote.
        request_id = uuid.uuid4().hex[:12]
        log.error(
            "request %s %s failed [%s]", request.method, request.url.path, request_id, exc_info=exc
        )
        return error_response(
            500, "internal_error", f"internal error; the server log has details (id {request_id})"
        )


def _allowed_methods(request: Request, given: str) -> str:
    """The methods the published schema documents for the request's path (`given`, what
    Starlette said, for a path it does not document)."""
    paths = request.app.openapi()["paths"]
    for template, item in paths.items():
        if re.fullmatch(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)), request.url.path):
            return ", ".join(sorted(method.upper() for method in item))
    return given


def describe_validation(errors: object) -> str:
    """One readable line per problem: where it is and what is wrong."""
    lines = []
    for error in errors if isinstance(errors, list) else []:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        message = error.get("msg", "invalid")
        if error.get("type") == "json_invalid":
            where, message = (
                "body",
                "is not valid JSON: " + str(error.get("ctx", {}).get("error", "")),
            )
        lines.append(f"{where}: {message}")
    return "; ".join(lines) or "invalid request"
