"""The migrations build the schema from empty, and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from engage import create_app
from engage.extensions import db


def diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app, database_url):
    # The fixture built this database with `db upgrade` from empty.
    assert diff(app) == []


def test_upgrade_and_downgrade_from_empty_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({"ENGAGE_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        assert diff(app) == []
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names())
        assert tables <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_the_cli_check_finds_nothing_to_generate(runner, app):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
