"""The OpenAPI document tells the truth about errors: one post-processing step (`install`) gives every operation of
the JSON API the Russian error body of api/errors.py (`ErrorOut`) for every status it can answer with, and the
application body the schema of the Application model (so `{}` is invalid in the document as it is for the service).

Which statuses an operation gets is decided here, in one place (`statuses`): the general rules read the operation
itself (a token → 401, a path parameter → 404, parameters or a body → 422; every request → 400, 413, 500), and
`EXTRA` adds what only some routes answer (409, 503). A new route is documented by these rules as soon as it is added;
if it can also answer 409 or 503, add it to `EXTRA`."""
from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from compliance.models import Application

API_PREFIX = "/api/v1"


class ProblemOut(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Ошибка в поле")
    path: str = Field(description="где ошибка: путь к полю заявки (например, land_plots[0].area), query:ИМЯ или "
                                  "path:ИМЯ для параметра адреса; пусто — запрос в целом")
    label: str = Field(description="название поля по-русски; пусто, если у поля нет названия")
    message: str = Field(description="что не так, по-русски")


# The body of every error answer of the JSON API (api/errors.py `body`); the docstring is its Russian description.
class ErrorOut(BaseModel):
    """Ответ сервиса с ошибкой: код, что случилось и, для ошибок во входных данных, какие поля и почему."""
    model_config = ConfigDict(extra="forbid", title="Ошибка")
    status: int = Field(description="код ответа HTTP")
    detail: str = Field(description="что случилось, по-русски")
    problems: list[ProblemOut] = Field(description="ошибки во входных данных по полям (для 422; иначе пусто)")


DESCRIPTION = {
    400: "некорректный запрос: тело не читается (не UTF-8, испорченная форма multipart) или неверный заголовок "
         "Content-Length",
    401: "нет токена или токен не действителен (заголовок Authorization: Bearer <токен>)",
    403: "действие разрешено только администратору",
    404: "не найдено или принадлежит другой организации",
    409: "конфликт версий: заявку одновременно изменил другой запрос; прочитайте заявку и повторите",
    413: "тело запроса или файл больше допустимого размера",
    422: "ошибка во входных данных: problems называет поле и причину",
    500: "внутренняя ошибка сервиса: в detail — номер обращения, без трассировки",
    503: "проверка сейчас невозможна (движок занят, сбой или превышено время процесса проверки, ошибки в каталоге, "
         "отчёты Word недоступны): повторите запрос позже",
}

# What only some routes answer, by (method, path) as in the OpenAPI document.
EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("get", f"{API_PREFIX}/regimes"): (503,),  # a catalog with errors
    ("get", f"{API_PREFIX}/regimes/{{code}}"): (503,),
    ("put", f"{API_PREFIX}/applications/{{app_id}}"): (409,),  # a concurrent writer
    ("put", f"{API_PREFIX}/applications/{{app_id}}/upload"): (409,),
    ("post", f"{API_PREFIX}/applications/{{app_id}}/checks"): (503,),  # the evaluation
    ("post", f"{API_PREFIX}/checks/batch"): (404, 503),  # an application id of another organisation
    ("post", f"{API_PREFIX}/checks/{{check_id}}/replay"): (409, 503),  # ?catalog=stored: the catalog is not stored
    ("get", f"{API_PREFIX}/checks/{{check_id}}/report.docx"): (503,),  # Word not available
    ("get", f"{API_PREFIX}/checks/{{check_id}}/report.pdf"): (503,),  # no LibreOffice, a failed or too slow conversion
    ("post", f"{API_PREFIX}/jobs/recheck"): (403,),  # all organisations without an administrator's token
    ("post", f"{API_PREFIX}/jobs/{{job_id}}/cancel"): (409,),  # the job has finished
    ("get", f"{API_PREFIX}/jobs/{{job_id}}/result"): (409,),  # the job is not done
    ("post", f"{API_PREFIX}/jobs/impact"): (403,),  # all organisations without an administrator's token
    **{("get", f"{API_PREFIX}/jobs/{{job_id}}/impact.{fmt}"): (409,) for fmt in ("xlsx", "json", "docx")},
}

# Where a status means something else than DESCRIPTION says: (method, path, status) -> description.
DESCRIPTION_AT: dict[tuple[str, str, int], str] = {
    ("post", f"{API_PREFIX}/checks/{{check_id}}/replay", 409):
        "повтор по каталогу исходной проверки (catalog=stored) невозможен: этот каталог не сохранён в базе; "
        "повторите по текущему каталогу",
    ("post", f"{API_PREFIX}/jobs/{{job_id}}/cancel", 409): "задание уже завершено: отменять нечего",
    ("get", f"{API_PREFIX}/jobs/{{job_id}}/result", 409):
        "итога пока нет: задание в очереди, выполняется или закончилось без итога (отменено, прервано, ошибка)",
    **{("get", f"{API_PREFIX}/jobs/{{job_id}}/impact.{fmt}", 409):
       "итога пока нет: задание в очереди, выполняется или закончилось без итога (отменено, прервано, ошибка)"
       for fmt in ("xlsx", "json", "docx")},
    ("post", f"{API_PREFIX}/jobs/impact", 422):
        "ошибка во входных данных: файл сценария не читается или не применяется к каталогу (problems — строки "
        "с номером строки файла и полем), неверная дата оценки",
    ("get", f"{API_PREFIX}/checks/{{check_id}}/report.pdf", 503):
        "PDF сейчас не получить: на сервере не установлен LibreOffice, преобразование не удалось или не уложилось в "
        "отведённое время (COMPLIANCE_PDF_TIMEOUT); отчёт Word (.docx) той же проверки доступен",
}

# The headers an error answer carries, by status.
HEADERS: dict[int, dict[str, Any]] = {
    409: {"X-Current-Version": {"description": "текущая версия заявки (при конфликте версий)",
                                "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "через сколько секунд повторить запрос", "schema": {"type": "integer"}}},
}

APPLICATION_REF = "#/components/schemas/Application"


def statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """Every error status the operation can answer with."""
    out = {400, 413, 500}  # api/errors.py Guard: any request
    params = operation.get("parameters") or []
    if operation.get("security"):
        out.add(401)
    if any(p.get("in") == "path" for p in params):
        out.add(404)
    if params or "requestBody" in operation:
        out.add(422)
    return out | set(EXTRA.get((method, path), ()))


def _application_schema(components: dict[str, Any]) -> None:
    """The Application model and its parts as components (their names checked against the service's own models)."""
    schema = Application.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    for name, part in {**defs, "Application": schema}.items():
        if name in components and components[name] != part:
            raise RuntimeError(f"OpenAPI: two schemas named {name}")
        components[name] = part


def document(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which the service never sends
        components.pop(name, None)
    components["ProblemOut"] = ProblemOut.model_json_schema()
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components["ErrorOut"].pop("$defs", None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    uses_application = False
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for answer in responses.values():  # FastAPI's English default
                if answer.get("description") == "Successful Response":
                    answer["description"] = "успешный ответ"
            for code in statuses(method, path, operation):
                responses[str(code)] = {"description": DESCRIPTION_AT.get((method, path, code), DESCRIPTION[code]),
                                        "content": error, **({"headers": HEADERS[code]} if code in HEADERS else {})}
            operation["responses"] = dict(sorted(responses.items()))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("x-application"):
                body["schema"] = {"$ref": APPLICATION_REF, "description": body["schema"].get("description", "")}
                uses_application = True
    if uses_application:
        _application_schema(components)
    return schema


# The body schema of a route that takes an application as JSON: the route reads a dict and validates it itself
# (Russian messages with labels), the document shows the Application model (`document` puts it in).
APPLICATION_BODY = {"x-application": True}


def documented_methods(app: FastAPI, path: str) -> str | None:
    """The Allow header of a 405 at `path`: the methods documented for it. Of the documented addresses that match,
    the one with the fewest parameters is the path's own (POST /applications/upload, not GET /applications/{app_id}
    with the id "upload"). None for an address that is not in the document (the web pages)."""
    found: dict[int, set[str]] = {}
    for template, item in app.openapi()["paths"].items():
        parts = re.split(r"\{[^}]+\}", template)
        if re.fullmatch("[^/]+".join(map(re.escape, parts)), path):
            found.setdefault(len(parts) - 1, set()).update(m.upper() for m in item)
    return ", ".join(sorted(found[min(found)])) if found else None


def install(app: FastAPI) -> None:
    """Post-process the generated document once, when /openapi.json is first asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
