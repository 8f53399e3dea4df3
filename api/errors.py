"""Errors of the service as Russian JSON: {"detail": "...", "problems": [{"path", "label", "message"}]}; a body-size
guard (413) and a last line of defence that never lets a traceback reach the client."""
from __future__ import annotations

import html
import json
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from compliance.catalog import CatalogError
from compliance.engine import EngineBusy
from compliance.formatting import field_label, size
from compliance.loading import InputError, InputTooLarge, Problem, _loc, _message
from compliance.parsers import DuplicateKey, json_problem, load_json

from .openapi import documented_methods

log = logging.getLogger("compliance.api")

STATUS_RU = {
    400: "некорректный запрос", 401: "нужен действительный токен: заголовок Authorization: Bearer <токен>",
    403: "доступ запрещён", 404: "не найдено", 405: "метод не поддерживается для этого адреса",
    406: "запрошенный формат ответа не поддерживается", 413: "тело запроса слишком велико",
    415: "неподдерживаемый тип содержимого", 422: "ошибка во входных данных", 429: "слишком много запросов",
    500: "внутренняя ошибка сервиса", 503: "сервис временно недоступен",
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, problems: list[Problem] | None = None,
                 headers: dict[str, str] | None = None):
        self.status = status
        self.detail = detail
        self.problems = problems or []
        self.headers = headers
        super().__init__(detail)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"тело запроса больше допустимого ({size(limit)})")


class BodyRefused(StarletteHTTPException):
    """A JSON body that does not read (syntax, a repeated key): 422 with the problem. An HTTPException, because
    FastAPI turns any other exception raised while it reads a body into a bare 400."""

    def __init__(self, message: str):
        super().__init__(422, "ошибка во входных данных")
        self.problems = [Problem("", message)]


class _StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = load_json(await self.body())
            except json.JSONDecodeError as exc:
                raise BodyRefused(json_problem(exc)) from None
            except DuplicateKey as exc:
                raise BodyRefused(str(exc)) from None
            except RecursionError:
                raise BodyRefused("тело запроса слишком глубоко вложено") from None
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is read as an application file is (compliance.parsers.load_json): a repeated key is
    refused, an integer too long for Python does not break the parser (the model refuses it at its field)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJSONRequest(request.scope, request.receive))
        return strict


def not_found(what: str = "объект") -> ApiError:
    return ApiError(404, f"{what} не найден(а) или недоступен(на) для вашей организации")


def problem_json(p: Problem) -> dict[str, str]:
    label = field_label(p.path) if p.path else ""
    return {"path": p.path, "label": label if label != p.path else "", "message": p.message}


def body(status: int, detail: str, problems: list[Problem] | None = None) -> dict[str, Any]:
    return {"status": status, "detail": detail, "problems": [problem_json(p) for p in problems or []]}


def respond(status: int, detail: str, problems: list[Problem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(status, detail, problems), status_code=status, headers=headers)


_EXTRA_RU = {
    "json_invalid": "тело запроса — некорректный JSON",
    "int_parsing": "ожидается целое число",
    "date_parsing": "ожидается дата в виде ГГГГ-ММ-ДД",
    "date_from_datetime_parsing": "ожидается дата в виде ГГГГ-ММ-ДД",
    "date_from_datetime_inexact": "ожидается дата без времени",
    "date_type": "ожидается дата в виде ГГГГ-ММ-ДД",
    "bool_parsing": "ожидается true или false",
    "less_than_equal": "значение слишком велико",
    "greater_than": "значение слишком мало",
    "string_too_long": "строка слишком длинная",
    "too_long": "слишком много элементов",
    "enum": "недопустимое значение",
    "uuid_parsing": "ожидается идентификатор",
    "list_type": "ожидается список",
}


def validation_problems(errors: list[dict[str, Any]]) -> list[Problem]:
    out = []
    for err in errors:
        loc = tuple(err.get("loc") or ())
        where = loc[0] if loc else ""
        path = _loc(loc[1:] if where in ("body", "query", "path", "header", "cookie") else loc)
        if where in ("query", "path", "header") and path:
            path = f"{where}:{path}"
        t = err.get("type", "")
        if t in _EXTRA_RU:
            message = _EXTRA_RU[t]
            if t == "less_than_equal" and (err.get("ctx") or {}).get("le") is not None:
                message = f"значение должно быть не больше {err['ctx']['le']}"
        else:
            _, message = _message(err)
            if message == err.get("msg") and not any("а" <= ch <= "я" for ch in message.lower()):
                message = "недопустимое значение"  # pydantic's English message: never shown to a Russian user
        out.append(Problem(path, message))
    return out


JSON_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json")


def is_page(path: str) -> bool:
    """A web page (errors as a Russian HTML page) rather than the JSON API."""
    return not path.startswith(JSON_PREFIXES)


def reply(request: Request, status: int, detail: str, problems: list[Problem] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    pages = getattr(request.app.state, "html_errors", None)
    if pages is not None and is_page(request.url.path):
        return pages(request, status, detail, problems or [], headers)
    return respond(status, detail, problems, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return reply(request, exc.status, exc.detail, exc.problems, exc.headers)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        return reply(request, 422, "ошибка во входных данных", exc.problems)

    @app.exception_handler(InputTooLarge)
    async def _input_too_large(request: Request, exc: InputTooLarge) -> Response:
        return reply(request, 413, "файл отклонён: он слишком велик или сложен для разбора", exc.problems)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        return reply(request, 422, "ошибка во входных данных", validation_problems(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and any("а" <= c <= "я" for c in exc.detail.lower()) \
            else STATUS_RU.get(exc.status_code, "ошибка запроса")
        headers = getattr(exc, "headers", None)
        allow = documented_methods(request.app, request.url.path) if exc.status_code == 405 else None
        if allow:  # Starlette names only the methods of the first route that matched the path
            headers = {**(headers or {}), "Allow": allow}
        return reply(request, exc.status_code, detail, getattr(exc, "problems", None), headers=headers)

    @app.exception_handler(EngineBusy)
    async def _busy(request: Request, exc: EngineBusy) -> Response:
        return reply(request, 503, "движок правил занят: повторите запрос позже", headers={"Retry-After": "1"})

    @app.exception_handler(CatalogError)
    async def _catalog(request: Request, exc: CatalogError) -> Response:
        log.error("catalog error: %s", exc)
        return reply(request, 503, "каталог требований на сервере содержит ошибки: проверка невозможна")

    @app.exception_handler(Exception)
    async def _any(request: Request, exc: Exception) -> Response:  # pragma: no cover - Guard answers first
        incident = uuid.uuid4().hex[:12]
        log.error("unhandled error, incident %s", incident, exc_info=exc)
        return reply(request, 500, f"внутренняя ошибка сервиса; номер обращения {incident}")


PLAIN_PAGE = ("<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\"><title>{title}</title>"
              "<body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto\"><h1>{title}</h1><p>{detail}</p>"
              "<p><a href=\"/applications\">Вернуться к заявкам</a></p></body></html>")


class Guard:
    """Pure ASGI middleware: refuses bodies over the limit (by Content-Length and by the bytes actually read) with
    413, and turns any exception that escapes the application into a Russian 500 without a traceback."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        page = is_page(scope.get("path", ""))

        async def send_json(status: int, payload: dict[str, Any]) -> None:
            if page:  # a browser gets a readable page, not JSON
                data = PLAIN_PAGE.format(title=STATUS_RU.get(status, "ошибка"), detail=html.escape(payload["detail"]))
                data, kind = data.encode("utf-8"), b"text/html; charset=utf-8"
            else:
                data, kind = json.dumps(payload, ensure_ascii=False).encode("utf-8"), b"application/json"
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode()),
                                    (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": data})

        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_json(400, body(400, "некорректный заголовок Content-Length"))
                    return
                if declared > self.limit:
                    await send_json(413, body(413, f"тело запроса больше допустимого ({size(self.limit)})"))
                    return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if not started:
                await send_json(413, body(413, exc.detail))
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            incident = uuid.uuid4().hex[:12]
            log.error("unhandled error, incident %s", incident, exc_info=exc)
            if not started:
                await send_json(500, body(500, f"внутренняя ошибка сервиса; номер обращения {incident}"))
