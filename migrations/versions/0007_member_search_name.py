"""members.search_name: the display name folded (accents, case, full-width) for searching

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:00:00

The new column is filled for existing members with engage.text.fold, the function the
Member model uses to keep it in step, so old and new rows are searched alike.
"""
from alembic import op
import sqlalchemy as sa

from engage.text import fold


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SEARCH_NAME_LENGTH = 200
BATCH = 1000


def search_name_for(display_name):
    # The same as engage.models.members.search_name_for, as it stood for this revision.
    return (fold(display_name)[:SEARCH_NAME_LENGTH] or None) if display_name else None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_name', sa.String(length=SEARCH_NAME_LENGTH), nullable=True))
        batch_op.create_index(batch_op.f('ix_members_search_name'), ['search_name'], unique=False)

    members = sa.table(
        'members',
        sa.column('id', sa.Integer()),
        sa.column('display_name', sa.String()),
        sa.column('search_name', sa.String()),
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(members.c.id, members.c.display_name)
            .where(members.c.id > last, members.c.display_name.is_not(None))
            .order_by(members.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = [{'_id': id_, '_name': search_name_for(name)} for id_, name in rows]
        conn.execute(
            members.update().where(members.c.id == sa.bindparam('_id')).values(search_name=sa.bindparam('_name')),
            values,
        )
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_search_name'))
        batch_op.drop_column('search_name')
