#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL server: `python .ci/postgres.py COMMAND…` (used by `make test-postgres`).

If COMPLIANCE_TEST_POSTGRES_URL already names a server that answers, the command runs against it. Otherwise the
PostgreSQL server of the distribution (Debian/Ubuntu packages, installed with apt-get as root or with passwordless
sudo when absent) starts a new cluster in a temporary directory on a free port of 127.0.0.1 — never the system's
own cluster — and the command runs with COMPLIANCE_TEST_POSTGRES_URL pointing at it. The server is stopped and
its directory removed at the end, also on Ctrl+C or SIGTERM. Messages are Russian; exit code 3 when PostgreSQL
cannot be installed or started, else the command's own.

Standard library only: the tests connect with psycopg (the `postgres` extra of pyproject.toml).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = "COMPLIANCE_TEST_POSTGRES_URL"
USER = DATABASE = "compliance"
PACKAGE = "postgresql"
UNAVAILABLE = 3


class Unavailable(Exception):
    """PostgreSQL cannot be installed or started here: the message says why, in Russian."""


def say(message: str) -> None:
    print(f"[postgres] {message}", flush=True)


def answers(url: str) -> bool:
    """Whether the server at `url` accepts a connection (asked with pg_isready when the client tools are here)."""
    tools = [shutil.which("pg_isready")] + [str(Path(d, "pg_isready")) for d in _bin_dirs()]
    tool = next((t for t in tools if t and Path(t).exists()), None)
    if tool is None:
        return True  # nothing to ask with: the tests will say whether it answers
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return subprocess.run([tool, "-q", "-d", plain, "-t", "5"]).returncode == 0


def _bin_dirs() -> list[str]:
    """The server binaries of the Debian/Ubuntu packages, newest version first."""
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if Path(d, "initdb").exists()]
    return sorted(dirs, key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0, reverse=True)


def _privileged() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    raise Unavailable("для apt-get нужны права root или sudo без пароля")


def install() -> str:
    """The directory of initdb/pg_ctl, installing the distribution's PostgreSQL server when it is absent."""
    found = _bin_dirs()
    if found:
        return found[0]
    if not shutil.which("apt-get"):
        raise Unavailable("нет apt-get (нужен Debian или Ubuntu)")
    apt = _privileged() + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q", "-o", "DPkg::Lock::Timeout=120"]
    say(f"устанавливаю сервер PostgreSQL: apt-get install -y {PACKAGE}")
    if subprocess.run(apt + ["install", "-y", PACKAGE]).returncode != 0:
        say("обновляю списки пакетов (apt-get update) и пробую ещё раз")
        subprocess.run(apt + ["update"])
        subprocess.run(apt + ["install", "-y", PACKAGE])
    found = _bin_dirs()
    if not found:
        raise Unavailable(f"apt-get не смог установить пакет {PACKAGE} (нет сети или такого пакета)")
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A new cluster in a temporary directory, run by an unprivileged user (the `postgres` account when we are root:
    the server refuses to run as root)."""

    def __init__(self, bindir: str):
        self.bindir = Path(bindir)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="compliance-pg-"))
        self.data = self.dir / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("нет пользователя postgres, от имени которого запускается сервер") from None
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--init-groups", "--"]
        self.url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"
        self.running = False

    def run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self.as_user + [str(self.bindir / tool), *args], capture_output=True, text=True,
                              cwd=self.dir)
        if done.returncode != 0:
            raise Unavailable(f"{tool} завершился с кодом {done.returncode}: {(done.stderr or done.stdout).strip()}")

    def start(self) -> None:
        # trust on 127.0.0.1 only: a throwaway server of this run, removed at the end
        self.run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                 "--no-sync")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self.running = True
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                 "start")
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)
        say(f"запущен PostgreSQL {self.bindir.parent.name} на 127.0.0.1:{self.port} (каталог {self.dir})")

    def stop(self) -> None:
        if self.running:
            try:
                self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
                say("сервер PostgreSQL остановлен")
            except Unavailable as exc:
                say(f"сервер не остановился: {exc}")
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)


def run(command: list[str], env: dict[str, str]) -> int:
    """The command's exit code; interrupted, the command and everything it started (its process group) are ended."""
    child = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)


def _interrupted(signum, _frame) -> None:  # noqa: ANN001
    raise SystemExit(128 + signum)  # unwinds through `finally`: the server is stopped


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(__doc__)
        return 2
    given = os.environ.get(ENV)
    if given and answers(given):
        say(f"тесты идут на сервере из {ENV}")
        return subprocess.run(command).returncode
    if given:
        say(f"сервер из {ENV} не отвечает: запускаю временный")
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _interrupted)
    cluster = None
    try:
        cluster = Cluster(install())
        cluster.start()
        return run(command, dict(os.environ, **{ENV: cluster.url}))
    except Unavailable as exc:
        say(f"PostgreSQL недоступен: {exc}. Тесты на PostgreSQL не выполнены.")
        return UNAVAILABLE
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
