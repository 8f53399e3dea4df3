"""What every web page shares: the Jinja2 templates and their filters, sign-in by the organisation's token (kept in an
HttpOnly cookie), the CSRF field of every form (sign-in included) with the Origin/Referer check, and errors shown as a
Russian page instead of JSON."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from compliance import __version__
from compliance.formatting import field_label, num
from compliance.labels import CATEGORIES, REGIMES, regime_name
from compliance.loading import Problem
from compliance.report import SEVERITY_RU, STATUS_RU, VERDICT_RU, VERDICT_SHORT, stated_conclusion
from compliance.storage import Organisation, token_owner

from ..errors import ApiError
from ..service import Caller, Service

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
COOKIE = "compliance_session"
BROWSER = "compliance_browser"  # this browser's random value, issued on its first page and replaced at sign-in
_BROWSER_VALUE = re.compile(r"[0-9a-f]{64}")
SESSION_SECONDS = 8 * 3600
MOSCOW = ZoneInfo("Europe/Moscow")

REGIME_SHORT = REGIMES  # one place for the regimes' names: compliance/labels.py
CATEGORY_RU = CATEGORIES


regime_title = regime_name


def day(value: date | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def moment(value: datetime | None) -> str:
    """A stored UTC timestamp as Moscow time: 26.11.2026 09:21 МСК."""
    if value is None:
        return "—"
    return value.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M") + " МСК"


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—" if value is None else str(value)
    return num(value).replace(".", ",")


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(day=day, moment=moment, number=number, label=field_label, regime=regime_title)
templates.env.globals.update(STATUS_RU=STATUS_RU, VERDICT_RU=VERDICT_RU, VERDICT_SHORT=VERDICT_SHORT,
                             stated_conclusion=stated_conclusion,
                             SEVERITY_RU=SEVERITY_RU, CATEGORY_RU=CATEGORY_RU, REGIME_SHORT=REGIME_SHORT,
                             service_version=__version__)


# --- sign-in ------------------------------------------------------------------------------------------------------
class SignInRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


def service_of(request: Request) -> Service:
    return request.app.state.service


def safe_next(url: str | None) -> str:
    """Only a path of this site (no scheme, no //host): nothing to redirect a user elsewhere."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/applications"
    return url


def web_caller(request: Request) -> Caller:
    """The signed-in organisation (from the cookie), or a redirect to the sign-in page."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired(target if request.method == "GET" else "/applications")
    with service_of(request).sessions() as s:
        row = token_owner(s, token)
        if row is None:
            raise SignInRequired(target if request.method == "GET" else "/applications")
        org = s.get(Organisation, row.organisation_id)
        request.state.org_name = org.name if org else ""
        return Caller(org_id=row.organisation_id, token_id=row.id, admin=row.admin)


WebAuth = Annotated[Caller, Depends(web_caller)]


def browser_key(request: Request) -> str:
    """This browser's random value (cookie BROWSER); a browser without one gets a new one, set by `render`."""
    value = request.cookies.get(BROWSER, "")
    if _BROWSER_VALUE.fullmatch(value):
        return value
    if not getattr(request.state, "new_browser_key", None):
        request.state.new_browser_key = secrets.token_hex(32)
    return request.state.new_browser_key


def csrf_value(key: str, token: str) -> str:
    return hmac.new(key.encode("ascii"), b"compliance-web-form\0" + token.encode("utf-8"),
                    hashlib.sha256).hexdigest()[:40]


def csrf_token(request: Request) -> str:
    """The CSRF field of this browser's forms: keyed by the browser's random value and bound to its session token
    (none before sign-in). Another browser, another sign-in or a page of another site never has the same value."""
    return csrf_value(browser_key(request), request.cookies.get(COOKIE, ""))


def same_origin(request: Request) -> bool:
    """The form comes from a page of this site: its Origin (or, without one, its Referer) names this host or an
    origin of the setting `trusted_origins`. Without both headers the CSRF field alone decides."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:  # "Origin: null" of sandboxed and privacy-stripped pages
        return False
    trusted = {o.rstrip("/").lower() for o in service_of(request).settings.trusted_origins}
    return (parts.netloc.lower() == request.headers.get("host", "").lower()
            or f"{parts.scheme}://{parts.netloc}".lower() in trusted)


def csrf_ok(request: Request, form: FormData) -> bool:
    """The form carries this browser's CSRF field and comes from this site."""
    key, sent = request.cookies.get(BROWSER, ""), form.get("csrf")
    return (same_origin(request) and _BROWSER_VALUE.fullmatch(key) is not None and isinstance(sent, str)
            and hmac.compare_digest(sent, csrf_value(key, request.cookies.get(COOKIE, ""))))


async def read_form(request: Request) -> FormData:
    """The posted form, after its CSRF field and origin are checked (403 with a Russian page otherwise)."""
    form = await request.form()
    if not csrf_ok(request, form):
        raise ApiError(403, "Форма устарела или отправлена не с этой страницы. Обновите страницу и повторите.")
    return form


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """An HttpOnly, SameSite=Lax cookie for 8 hours (Secure over HTTPS)."""
    response.set_cookie(name, value, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def form_text(form: FormData, name: str) -> str:
    """A posted text field, or "" when it is missing or is a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("org_name", getattr(request.state, "org_name", None))
    context.setdefault("csrf", csrf_token(request))
    context.setdefault("upload_limit_mb", num(service_of(request).settings.max_body_bytes / 2**20, 1))
    response = templates.TemplateResponse(request, template, context, status_code=status)
    if getattr(request.state, "new_browser_key", None):
        set_cookie(request, response, BROWSER, request.state.new_browser_key)
    return response


def problems_view(problems: list[Problem]) -> list[dict[str, str]]:
    """Problems with the Russian label of their field, for templates."""
    out = []
    for p in problems:
        label = field_label(p.path) if p.path else ""
        out.append({"path": p.path, "label": label if label != p.path else p.path, "message": p.message})
    return out


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


ERROR_TITLES = {400: "Некорректный запрос", 401: "Нужно войти", 403: "Действие не разрешено",
                404: "Не найдено", 405: "Действие не поддерживается", 413: "Файл слишком большой",
                422: "Ошибка во входных данных", 500: "Внутренняя ошибка", 503: "Сервис временно недоступен"}


def error_page(request: Request, status: int, detail: str, problems: list[Problem],
               headers: dict[str, str] | None = None) -> HTMLResponse:
    response = render(request, "error.html", status=status, title=ERROR_TITLES.get(status, "Ошибка"), detail=detail,
                      problems=problems_view(problems), status_code=status)
    for key, value in (headers or {}).items():
        if key.lower() != "www-authenticate":
            response.headers[key] = value
    return response


def install(app: FastAPI) -> None:
    app.state.html_errors = error_page

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, exc: SignInRequired) -> RedirectResponse:
        return redirect(f"/sign-in?next={quote(exc.next_url, safe='/')}")
