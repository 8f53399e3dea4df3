"""The database a service test runs on: a SQLite file in the test's directory, or a new PostgreSQL database on the
server of COMPLIANCE_TEST_POSTGRES_URL (`make test-postgres` starts one: .ci/postgres.py). Each PostgreSQL database
is created empty for its test and dropped after it (tests/conftest.py), so tests never see each other's rows."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

POSTGRES_URL = os.environ.get("COMPLIANCE_TEST_POSTGRES_URL")  # e.g. postgresql+psycopg://user:pw@127.0.0.1/db
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])  # what the service tests are parametrised over
DEFAULT = DATABASES[-1]  # the web tests run on PostgreSQL when it is given, else on SQLite
created: list[str] = []  # PostgreSQL databases of this run not dropped yet, oldest first
_admin = None


def _server():
    global _admin
    if _admin is None:
        from sqlalchemy import create_engine
        _admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    return _admin


def database_url(tmp_path: Path, name: str = "service.db", database: str = DEFAULT) -> str:
    """The URL of an empty database for one test: `name` in `tmp_path` on SQLite, a new database on PostgreSQL."""
    if database == "sqlite":
        return f"sqlite:///{tmp_path / name}"
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    db = f"compliance_test_{uuid.uuid4().hex[:16]}"
    with _server().connect() as con:
        con.execute(text(f'CREATE DATABASE "{db}"'))
    created.append(db)
    return make_url(POSTGRES_URL).set(database=db).render_as_string(hide_password=False)


def drop(since: int = 0) -> None:
    """Drop the PostgreSQL databases created since the `since`-th, closing what is still connected to them."""
    if not created[since:]:
        return
    from sqlalchemy import text
    with _server().connect() as con:
        for db in created[since:]:
            con.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    del created[since:]


def old_sqlite(tmp_path: Path, revision: str):
    """A SQLite database in `tmp_path` migrated up to `revision` (a test of the migration after it): its URL and the
    Alembic configuration to upgrade or downgrade it further."""
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)
    return url, cfg
