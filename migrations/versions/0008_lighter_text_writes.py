"""Lighter writes for every text: conversations updated in place, partial outbox indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 00:00:00

Each incoming text updates its conversation (last_inbound_at, last_message_at, maybe
needs_reply) and most add a reply to the outbox. Before this revision the conversation's
update had to add an entry to each of its five indexes, because two indexed columns
(last_message_at, needs_reply) changed; nothing looks conversations up by either. Now:

- conversations: the index on last_message_at goes; the one on needs_reply becomes
  ix_conversations_unanswered, on member_id for the unanswered conversations only (the
  inbox's count and list); on PostgreSQL the table leaves 20% of each page free, so an
  update can stay in its page (a HOT update, no index touched).
- outbox_messages: the indexes on bulk_id and provider_sid keep only the rows where
  those are set (a lookup is always by a value).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FILLFACTOR = 80


def _where(clause, sqlite=None):
    return {'postgresql_where': sa.text(clause), 'sqlite_where': sa.text(sqlite or clause)}


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_last_message_at')
        batch_op.drop_index('ix_conversations_needs_reply')
        batch_op.create_index(
            'ix_conversations_unanswered', ['member_id'], unique=False, **_where('needs_reply', 'needs_reply = 1')
        )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_bulk_id')
        batch_op.drop_index('ix_outbox_messages_provider_sid')
        batch_op.create_index('ix_outbox_messages_bulk_id', ['bulk_id'], unique=False, **_where('bulk_id IS NOT NULL'))
        batch_op.create_index(
            'ix_outbox_messages_provider_sid', ['provider_sid'], unique=False, **_where('provider_sid IS NOT NULL')
        )
    if op.get_bind().dialect.name == 'postgresql':
        # Pages written from now on keep the room; a VACUUM FULL would rewrite the old ones.
        op.execute(f'ALTER TABLE conversations SET (fillfactor = {FILLFACTOR})')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE conversations RESET (fillfactor)')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_provider_sid')
        batch_op.drop_index('ix_outbox_messages_bulk_id')
        batch_op.create_index('ix_outbox_messages_provider_sid', ['provider_sid'], unique=False)
        batch_op.create_index('ix_outbox_messages_bulk_id', ['bulk_id'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_unanswered')
        batch_op.create_index('ix_conversations_needs_reply', ['needs_reply'], unique=False)
        batch_op.create_index('ix_conversations_last_message_at', ['last_message_at'], unique=False)
