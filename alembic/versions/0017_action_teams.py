"""Action teams (行动队): a village cadre, a party member and local worthies a branch dispatches to

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Existing orders were dispatched to no team (`orders.action_team_id` is null).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('action_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('cadre_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['cadre_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('branch_id', 'name')
    )
    op.create_index(op.f('ix_action_teams_town_id'), 'action_teams', ['town_id'], unique=False)

    op.create_table('action_team_worthies',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['action_teams.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'staff_id')
    )
    op.create_index('ix_action_team_worthies_staff', 'action_team_worthies', ['staff_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # In place, with its reference: rows elsewhere refer to orders, so no copy of the table.
        op.execute("ALTER TABLE orders ADD COLUMN action_team_id INTEGER REFERENCES action_teams (id)")
    else:
        op.add_column('orders', sa.Column('action_team_id', sa.Integer(), nullable=True))
        op.create_foreign_key('orders_action_team_id_fkey', 'orders', 'action_teams', ['action_team_id'], ['id'])
    op.create_index('ix_orders_action_team', 'orders', ['action_team_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_action_team', table_name='orders')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('orders', schema=None) as batch_op:
            batch_op.drop_column('action_team_id')
    else:
        op.drop_constraint('orders_action_team_id_fkey', 'orders', type_='foreignkey')
        op.drop_column('orders', 'action_team_id')
    op.drop_index('ix_action_team_worthies_staff', table_name='action_team_worthies')
    op.drop_table('action_team_worthies')
    op.drop_index(op.f('ix_action_teams_town_id'), table_name='action_teams')
    op.drop_table('action_teams')
