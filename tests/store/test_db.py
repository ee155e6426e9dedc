from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select

from headshots.errors import ConfigError
from headshots.store import Database
from headshots.store._models import Base, OrderRow


def test_migrations_build_the_models_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(db_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"orders", "consents", "photos", "stage_runs", "candidates", "blobs", "events",
            "receipts"} <= set(inspect(db.engine).get_table_names())
    Database(db_url)  # migrating again is a no-op
    db.dispose()


def test_times_come_back_aware_utc(db_url):
    db = Database(db_url)
    when = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with db.session() as s:
        s.add(OrderRow(id="o1", owner="x", status="collecting", params={}, params_hash="h",
                       created_at=when, updated_at=when, last_activity_at=when))
    with db.session() as s:
        row = s.scalar(select(OrderRow))
        assert row is not None and row.created_at == when and row.created_at.tzinfo is UTC
    with pytest.raises(Exception, match="naive"), db.session() as s:
        s.add(OrderRow(id="o2", owner="x", status="c", params={}, params_hash="h",
                       created_at=datetime(2026, 1, 1), updated_at=when, last_activity_at=when))
    db.dispose()


def test_bad_urls_are_config_errors():
    with pytest.raises(ConfigError, match="not a database URL"):
        Database("not a url", migrate=False)
    with pytest.raises(ConfigError, match="not supported"):
        Database("mysql://x@y/z", migrate=False)
