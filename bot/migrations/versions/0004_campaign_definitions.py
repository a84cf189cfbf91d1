"""campaigns created from the back-office (fidelización, técnico preventivo) and their targets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', Id, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('audience', sa.String(length=12), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_by_id', Id, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('campaign_targets',
    sa.Column('id', Id, nullable=False),
    sa.Column('campaign_id', Id, nullable=False),
    sa.Column('client_id', Id, nullable=False),
    sa.Column('product_id', Id, nullable=True),
    sa.Column('opportunity', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('case_id', Id, nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'client_id', 'product_id')
    )
    with op.batch_alter_table('campaign_targets', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_targets_campaign_id', ['campaign_id'], unique=False)
    with op.batch_alter_table('campaign_sends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', Id, nullable=True))
        batch_op.create_index('ix_campaign_sends_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_foreign_key('fk_campaign_sends_campaign_id', 'campaigns', ['campaign_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('campaign_sends', schema=None) as batch_op:
        batch_op.drop_constraint('fk_campaign_sends_campaign_id', type_='foreignkey')
        batch_op.drop_index('ix_campaign_sends_campaign_id')
        batch_op.drop_column('campaign_id')
    with op.batch_alter_table('campaign_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_targets_campaign_id')
    op.drop_table('campaign_targets')
    op.drop_table('campaigns')
