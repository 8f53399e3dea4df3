"""Real-browser tests: the service under uvicorn on a free local port, Debian's Chromium driven by Playwright, and
screenshots of pages in out/screenshots/.

Chromium is /usr/bin/chromium (or the path in COMPLIANCE_CHROMIUM); Playwright never downloads a browser here. The
flags keep Chromium off the network (the machine's network is closed) and each launch has a fresh temporary profile.

Fixtures (this module is a pytest plugin, loaded by `pytest_plugins` in tests/conftest.py, so any test can use them):
  server          module-wide `LiveServer`: `.url`, `.app`, `.org()` → a new organisation with its own token
  chromium        module-wide Playwright `Browser`, launched once per test module
  page            a fresh browser context (cookies, storage) and page per test: laptop 1366×768, Russian locale
  org             a new organisation of its own for this test (`Org`: name, token, `.upload(fixture)`), so counts in
                  the list are those of this test only
  signed_in_page  `page` signed in through the sign-in form as `org`, on the applications list
  served          `compliance serve --demo-org …` started as a newcomer starts it (a subprocess with its own SQLite
                  file, checks in worker processes): `.url`, `.link` (the printed sign-in link), `.log()`, `.workers()`;
                  stopped after the test (terminate, then kill on a timeout), its worker processes with it
Helpers: `shot(page, name)` saves a full-page PNG (`full_page=False`: the viewport only); `LAPTOP`, `TABLET` are
viewport sizes.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM = os.environ.get("COMPLIANCE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = (f"Chromium не найден ({CHROMIUM}): браузерные тесты пропущены; "
           "установите пакеты chromium и chromium-driver")
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
TIMEOUT_MS = 10_000  # a local page that takes longer is a failure, not something to wait 30 s for

TAKEN: list[Path] = []  # screenshots of this run, for the summary line printed by tests/conftest.py


def chromium_found() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


# --- screenshots --------------------------------------------------------------------------------------------------
def shot(page, name: str, full_page: bool = True) -> Path:
    """A PNG of what the page shows now — the whole page, or with `full_page=False` the viewport only (the top of a
    long page as a person first sees it): out/screenshots/<name>.png (overwritten on the next run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if path not in TAKEN:
        TAKEN.append(path)
    return path


def _files(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "файл"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "файла"
    return "файлов"


def summary_line() -> str | None:
    """«Снимки страниц: /abs/out/screenshots (N файлов)», or None when no screenshot was taken in this run."""
    if not TAKEN:
        return None
    return f"Снимки страниц: {SCREENSHOTS} ({len(TAKEN)} {_files(len(TAKEN))})"


# --- the service --------------------------------------------------------------------------------------------------
@dataclass
class Org:
    """An organisation of the running service and its token."""
    name: str
    token: str
    server: "LiveServer"

    def upload(self, fixture: str) -> str:
        """Store a fixture file as this organisation's application through the JSON API (quicker than the form, for
        tests that need applications to exist); the new application's id."""
        import httpx

        path = FIXTURES / fixture
        r = httpx.post(f"{self.server.url}/api/v1/applications/upload", timeout=30,
                       headers={"Authorization": f"Bearer {self.token}"},
                       files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 201, r.text[:2000]
        return r.json()["id"]


def healthy(url: str) -> bool:
    """The service at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class LiveServer:
    """The real app (`create_app`) under uvicorn in a background thread, on 127.0.0.1 and a free port, with its own
    SQLite file; checks run in a thread of the service (`evaluation_mode="thread"`)."""

    def __init__(self, workdir: Path):
        import uvicorn

        from api.app import create_app
        from compliance.settings import Settings

        self.app = create_app(Settings(database_url=f"sqlite:///{workdir / 'browser.db'}", evaluation_mode="thread"))
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with another process
        port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="uvicorn-browser-tests", daemon=True)
        self._count = 0

    def start(self, timeout: float = 30) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            if healthy(self.url):
                return self
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn остановился при запуске (см. журнал выше)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"сервис не ответил на {self.url}/api/v1/health за {timeout} с")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._socket.close()
        assert not self._thread.is_alive(), "uvicorn не остановился за 15 с"

    def org(self, name: str | None = None) -> Org:
        """A new organisation with a fresh token (each test gets its own, so lists hold only its applications)."""
        from compliance.storage import create_token

        self._count += 1
        name = name or f"УК «Браузерный тест {self._count}»"
        with self.app.state.sessions() as s:
            token, _ = create_token(s, name)
            s.commit()
        return Org(name, token, self)


class ServedProcess:
    """`compliance serve --host 127.0.0.1 --port <free> --demo-org ORG` in a subprocess, as the README tells a newcomer
    to start the service (default settings: checks in worker processes), with its own SQLite file; its output goes to
    a log file, from which the printed sign-in link is read."""

    LINK = re.compile(r"Откройте в браузере: (http://\S+/sign-in#cmp_\S+)")

    def __init__(self, workdir: Path, org: str):
        self.org = org
        self.log_path = workdir / "serve.log"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.link = ""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLIANCE_")}  # the defaults a newcomer gets
        env["COMPLIANCE_DATABASE_URL"] = f"sqlite:///{workdir / 'serve.db'}"
        env["PYTHONUNBUFFERED"] = "1"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "compliance"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--demo-org", org], cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)  # its own process group: the workers go with it

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> list[int]:
        """The ids of the service's worker processes (children started by multiprocessing's spawn), from /proc."""
        found = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                if b"spawn_main" in cmdline:
                    found.append(int(child))
        return sorted(found)

    def start(self, timeout: float = 60) -> "ServedProcess":
        """Wait for the printed sign-in link and for the service to answer."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.LINK.search(self.log())
            if m and not self.link:
                self.link = m.group(1)
            if self.link and healthy(self.url):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"compliance serve завершился с кодом {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"compliance serve не запустился за {timeout} с:\n{self.log()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20) -> int | None:
        """Terminate (uvicorn shuts down, the worker pool with it) and wait; kill the process group on a timeout.
        The exit code, or None when it had to be killed."""
        code = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group of this process only (start_new_session)
                self.proc.wait(timeout=10)
        else:
            code = self.proc.returncode
        self._log.close()
        return code


# --- fixtures -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("browser")).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def chromium():
    """Chromium launched once for the module (Playwright's sync API; torn down before other test modules run)."""
    if not chromium_found():
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    try:
        driver = sync_playwright().start()
    except Exception as exc:  # the Node driver shipped with the package could not start
        pytest.skip(f"Playwright не запустился: {exc}")
    try:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        driver.stop()
        raise
    yield browser
    browser.close()
    driver.stop()


@pytest.fixture
def page(chromium, server):
    """A page in a fresh context (no cookies): laptop viewport, Russian locale, Moscow time; relative URLs are
    resolved against the service (`page.goto("/sign-in")`)."""
    context = chromium.new_context(base_url=server.url, viewport=LAPTOP, locale="ru-RU",
                                   timezone_id="Europe/Moscow", extra_http_headers={"Accept-Language": "ru-RU,ru"})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def served(tmp_path_factory) -> Iterator[ServedProcess]:
    proc = ServedProcess(tmp_path_factory.mktemp("serve"), "Демонстрационная управляющая компания")
    workers: list[int] = []
    try:
        proc.start()
        yield proc
    finally:
        workers = proc.workers() if proc.proc.poll() is None else []
        code = proc.stop()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: the exit is -SIGTERM (or 0)
    assert code in (0, -signal.SIGTERM) and "Finished server process" in proc.log(), (
        f"compliance serve не остановился штатно (код {code}):\n{proc.log()[-3000:]}")
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not left, f"рабочие процессы проверок остались после остановки сервиса: {left}"


@pytest.fixture
def org(server) -> Org:
    return server.org()


def sign_in(page, token: str, next_url: str = "/applications") -> None:
    """Sign in through the form as a person would: open the sign-in page, paste the token, press «Войти»."""
    page.goto(f"/sign-in?next={quote(next_url, safe='/')}")
    page.get_by_label("Токен организации").fill(token)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(lambda url: url.endswith(next_url))


@pytest.fixture
def signed_in_page(page, org):
    """`page` signed in as `org` (a new organisation of this test), showing the applications list."""
    sign_in(page, org.token)
    return page
