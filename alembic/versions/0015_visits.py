"""驻点直联: visit teams with their members and grids, visits, and the visit an order was found on

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Existing orders were found on no recorded visit (`orders.visit_id` is null).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('visit_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('link_weekday', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['leader_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('town_id', 'name')
    )
    op.create_index(op.f('ix_visit_teams_town_id'), 'visit_teams', ['town_id'], unique=False)

    op.create_table('visit_team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['visit_teams.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'staff_id')
    )
    op.create_index('ix_visit_team_members_staff', 'visit_team_members', ['staff_id'], unique=False)

    op.create_table('visit_team_grids',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['visit_teams.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'grid_id')
    )
    op.create_index('ix_visit_team_grids_grid', 'visit_team_grids', ['grid_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['visit_teams.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.ForeignKeyConstraint(['visitor_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_visits_town_day', 'visits', ['town_id', 'visited_on'], unique=False)
    op.create_index('ix_visits_team_day', 'visits', ['team_id', 'visited_on'], unique=False)
    op.create_index('ix_visits_household', 'visits', ['household_id', 'visited_on'], unique=False)
    op.create_index('ix_visits_grid_day', 'visits', ['grid_id', 'visited_on'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # In place, with its reference: rows elsewhere refer to orders, so no copy of the table.
        op.execute("ALTER TABLE orders ADD COLUMN visit_id INTEGER REFERENCES visits (id)")
    else:
        op.add_column('orders', sa.Column('visit_id', sa.Integer(), nullable=True))
        op.create_foreign_key('orders_visit_id_fkey', 'orders', 'visits', ['visit_id'], ['id'])
    op.create_index('ix_orders_visit', 'orders', ['visit_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_visit', table_name='orders')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('orders', schema=None) as batch_op:
            batch_op.drop_column('visit_id')
    else:
        op.drop_constraint('orders_visit_id_fkey', 'orders', type_='foreignkey')
        op.drop_column('orders', 'visit_id')
    op.drop_index('ix_visits_grid_day', table_name='visits')
    op.drop_index('ix_visits_household', table_name='visits')
    op.drop_index('ix_visits_team_day', table_name='visits')
    op.drop_index('ix_visits_town_day', table_name='visits')
    op.drop_table('visits')
    op.drop_index('ix_visit_team_grids_grid', table_name='visit_team_grids')
    op.drop_table('visit_team_grids')
    op.drop_index('ix_visit_team_members_staff', table_name='visit_team_members')
    op.drop_table('visit_team_members')
    op.drop_index(op.f('ix_visit_teams_town_id'), table_name='visit_teams')
    op.drop_table('visit_teams')
