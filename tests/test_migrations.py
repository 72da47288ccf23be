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


def test_0007_folds_the_names_of_members_already_there_and_can_be_undone(app, database_url):
    """members.search_name: added with its index, filled for existing rows with the same
    fold the model uses, and dropped again by the downgrade. Runs on every test database."""
    import sqlalchemy as sa

    from engage.models import utcnow
    from engage.models.members import search_name_for

    members = sa.table(
        "members",
        sa.column("id", sa.Integer),
        sa.column("display_name", sa.String),
        sa.column("phone", sa.String),
        sa.column("locale", sa.String),
        sa.column("child_age_groups", sa.JSON),
        sa.column("source", sa.String),
        sa.column("sms_status", sa.String),
        sa.column("participation", sa.JSON),
        sa.column("needs", sa.JSON),
        sa.column("session_version", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    names = ["Rosa Díaz", "MARÍA LÓPEZ", "Ｊｏｓé", "陳偉", None, "ß" * 80]

    def columns() -> set[str]:
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)
            found = {c["name"] for c in inspector.get_columns("members")}
            found |= {i["name"] for i in inspector.get_indexes("members")}
            return found

    db.session.remove()
    downgrade(revision="0006")
    try:
        assert "search_name" not in columns()
        with db.engine.begin() as conn:
            conn.execute(
                members.insert(),
                [
                    dict(
                        id=i + 1,
                        display_name=name,
                        phone=f"+1559555{i:04d}",
                        locale="es",
                        child_age_groups=[],
                        source="web",
                        sms_status="active",
                        participation=[],
                        needs={},
                        session_version=1,
                        created_at=utcnow(),
                    )
                    for i, name in enumerate(names)
                ],
            )
        upgrade(revision="0007")
        assert {"search_name", "ix_members_search_name"} <= columns()
        with db.engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT id, search_name FROM members ORDER BY id")).all())
        assert stored == {i + 1: search_name_for(name) for i, name in enumerate(names)}
        assert [stored[1], stored[2], stored[3], stored[4], stored[5]] == [
            "rosa diaz",
            "maria lopez",
            "jose",
            "陳偉",
            None,
        ]
        assert stored[6] == "ss" * 80  # longer than the name itself: the column has room
        downgrade(revision="0006")
        assert "search_name" not in columns() and "ix_members_search_name" not in columns()
    finally:
        upgrade()
    assert diff(app) == []


def test_0008_keeps_the_text_writes_light_and_can_be_undone(app, database_url):
    """Conversations: no index on the columns every text changes (so PostgreSQL can
    update the row in its page), the unanswered ones indexed apart, room left in each
    page on PostgreSQL; the outbox indexes bulk_id and provider_sid only where set."""
    import sqlalchemy as sa

    def indexes(table: str) -> dict[str, list[str]]:
        with db.engine.connect() as conn:
            return {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes(table)}

    def fillfactor() -> str | None:
        if db.engine.dialect.name != "postgresql":
            return None
        with db.engine.connect() as conn:
            options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'conversations'")).scalar()
        return next((o for o in options or [] if o.startswith("fillfactor=")), None)

    def partial(name: str) -> str:
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "postgresql":
                return conn.execute(
                    sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
                ).scalar()
            return conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}).scalar()

    conversations = indexes("conversations")
    assert "ix_conversations_last_message_at" not in conversations
    assert "ix_conversations_needs_reply" not in conversations
    assert conversations["ix_conversations_unanswered"] == ["member_id"]
    assert "WHERE" in partial("ix_conversations_unanswered") and "needs_reply" in partial("ix_conversations_unanswered")
    for name in ("ix_outbox_messages_bulk_id", "ix_outbox_messages_provider_sid"):
        assert "IS NOT NULL" in partial(name).upper()
    if db.engine.dialect.name == "postgresql":
        assert fillfactor() == "fillfactor=80"

    db.session.remove()
    downgrade(revision="0007")
    try:
        conversations = indexes("conversations")
        assert conversations["ix_conversations_last_message_at"] == ["last_message_at"]
        assert conversations["ix_conversations_needs_reply"] == ["needs_reply"]
        assert "ix_conversations_unanswered" not in conversations
        assert "WHERE" not in partial("ix_outbox_messages_bulk_id").upper()
        assert fillfactor() is None
    finally:
        upgrade()
    assert diff(app) == []


def test_the_unanswered_count_reads_the_partial_index_on_postgresql(app, database_url):
    """The inbox's count of unanswered conversations is written so that PostgreSQL can
    prove it needs only ix_conversations_unanswered (``needs_reply IS true`` would not)."""
    import sqlalchemy as sa

    if not database_url.startswith("postgresql"):
        return
    with db.engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        conn.execute(sa.text("SET enable_bitmapscan = off"))
        from engage.models import Conversation

        query = sa.select(sa.func.count(Conversation.id)).where(Conversation.needs_reply)
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(conn.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_conversations_unanswered" in plan, plan
