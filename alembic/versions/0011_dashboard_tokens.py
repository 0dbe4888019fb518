"""dashboard tokens: listed, rotated and revoked by the town admin

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

Dashboard tokens issued before this revision name no row and are refused from now
on; the town admin issues new ones.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('dashboard_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('previous_valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dashboard_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_tokens_town', ['town_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dashboard_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_tokens_town')

    op.drop_table('dashboard_tokens')
