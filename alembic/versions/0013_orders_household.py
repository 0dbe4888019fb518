"""orders name the household they are for

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Orders placed before this revision name none.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; Alembic would copy the whole
        # table, which the rows that refer to orders do not allow.
        op.execute("ALTER TABLE orders ADD COLUMN household_id INTEGER REFERENCES households (id)")
    else:
        op.add_column('orders', sa.Column('household_id', sa.Integer(), nullable=True))
        op.create_foreign_key('orders_household_id_fkey', 'orders', 'households', ['household_id'], ['id'])
    op.create_index('ix_orders_household', 'orders', ['household_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_household', table_name='orders')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('orders', schema=None) as batch_op:
            batch_op.drop_column('household_id')
    else:
        op.drop_constraint('orders_household_id_fkey', 'orders', type_='foreignkey')
        op.drop_column('orders', 'household_id')
