"""A signed-in browser-like client of the web pages (FastAPI TestClient over a real SQLite file, or PostgreSQL under
`make test-postgres`: tests/testdb.py), for the web tests."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import create_token  # noqa: E402
from testdb import database_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(page: str) -> str:
    """The CSRF field of a page's form."""
    m = _CSRF.search(page)
    assert m, "no CSRF field on the page"
    return m.group(1)


def sign_in(client: TestClient, token: str, next_url: str | None = None, headers: dict | None = None):
    """Sign in through the form as a browser does: open the sign-in page (its pre-session CSRF field and cookie), then
    post the token with that field."""
    data = {"token": token, "csrf": csrf_of(client.get("/sign-in").text)}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/sign-in", data=data, headers=headers, follow_redirects=False)


@dataclass
class Web:
    client: TestClient
    token: str
    app: object
    database_url: str

    def csrf(self, page: str = "/applications") -> str:
        """The CSRF value of this session, read from a page's form as a browser would."""
        return csrf_of(self.client.get(page).text)

    def post(self, url: str, data: dict | list | None = None, files=None, follow: bool = False):
        """Post a form with this session's CSRF field; `data` is a dict or a list of (name, value) pairs (a name may
        repeat, as checkboxes do)."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields: dict[str, list[str]] = {}
        for name, value in pairs + [("csrf", self.csrf())]:
            fields.setdefault(name, []).extend(value if isinstance(value, list) else [value])
        return self.client.post(url, data=fields, files=files, follow_redirects=follow)

    def upload(self, name: str, app_id: str | None = None) -> str:
        """Upload a fixture file; the new application's id."""
        path = FIXTURES / name
        url = f"/applications/{app_id}/upload" if app_id else "/applications/upload"
        r = self.post(url, files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 303, r.text[:2000]
        return r.headers["location"].split("?")[0].rsplit("/", 1)[1]


def admin_client(web: Web, org: str = "Министерство") -> TestClient:
    """A browser signed in with a new administrator's token of the organisation `org`, on the same service."""
    with web.app.state.sessions() as s:
        token, _ = create_token(s, org, admin=True)
        s.commit()
    admin = TestClient(web.app)
    assert sign_in(admin, token).status_code == 303
    return admin


def web_client(tmp_path: Path, org: str = "УК «Тест»", **settings) -> Web:
    settings.setdefault("evaluation_mode", "thread")
    url = database_url(tmp_path, "web.db")
    app = create_app(Settings(database_url=url, **settings))
    with app.state.sessions() as s:
        token, _ = create_token(s, org)
        s.commit()
    client = TestClient(app)
    r = sign_in(client, token, "/applications")
    assert r.status_code == 303, r.text[:2000]
    return Web(client, token, app, url)


def second_org(web: Web, org: str = "Другая организация") -> TestClient:
    """A client of another organisation on the same service."""
    with web.app.state.sessions() as s:
        token, _ = create_token(s, org)
        s.commit()
    client = TestClient(web.app)
    assert sign_in(client, token).status_code == 303
    return client
