"""揭榜: orders on a branch's task board (orders.task_until), their volunteers, each branch's mode

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

No order is on a board yet; every branch picks among its volunteers (`pick`).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('orders', sa.Column('task_until', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_orders_task_until', 'orders', ['task_until'], unique=False,
                    postgresql_where=sa.text('task_until IS NOT NULL'), sqlite_where=sa.text('task_until IS NOT NULL'))
    op.add_column('branches', sa.Column('task_mode', sa.String(length=10), nullable=False, server_default='pick'))
    op.create_table('task_volunteers',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('volunteered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('order_id', 'member_id')
    )


def downgrade() -> None:
    op.drop_table('task_volunteers')
    op.execute('ALTER TABLE branches DROP COLUMN task_mode')
    op.drop_index('ix_orders_task_until', table_name='orders')
    op.execute('ALTER TABLE orders DROP COLUMN task_until')
