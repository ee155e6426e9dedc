"""Engine, sessions and migrations. SQLite in the data directory is the embedded default;
PostgreSQL by URL. The schema is always brought to the newest Alembic revision on open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from headshots.errors import ConfigError

__all__ = ["Database", "MIGRATIONS"]

MIGRATIONS = Path(__file__).parent / "migrations"
_migrate_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cur.execute("PRAGMA busy_timeout=30000")
    # deleted rows are overwritten with zeros, not left in free pages of the file: a purged
    # file name or wrapped key must not survive in the database file
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class Database:
    def __init__(self, url: str, *, migrate: bool = True, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a bad setting
            raise ConfigError(f"HEADSHOTS_DATABASE_URL is not a database URL ({exc})",
                              "use sqlite:///path/headshots.db or "
                              "postgresql+psycopg://user@host/dbname") from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"database {self.dialect!r} is not supported",
                              "use SQLite (the default) or PostgreSQL")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (a no-op when it is there already)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        with _migrate_lock:
            command.upgrade(cfg, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        with self._sessions() as s, s.begin():
            yield s

    def scrub(self) -> None:
        """After a deletion: make deleted rows' bytes leave the database files. SQLite zeroes
        them (secure_delete) but the write-ahead log still holds old page images until it is
        checkpointed and truncated; PostgreSQL keeps dead tuples until VACUUM."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if self.dialect == "sqlite":
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            else:
                conn.execute(text("VACUUM"))

    def dispose(self) -> None:
        self.engine.dispose()
