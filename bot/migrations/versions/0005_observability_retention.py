"""correlation id on messages, retention markers, index for the inbound rate limit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correlation_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
        # The per-sender rate limit counts a conversation's messages of the last minutes.
        batch_op.create_index('ix_messages_conversation_created', ['conversation_id', 'created_at'],
                              unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_conversation_created')
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('correlation_id')
