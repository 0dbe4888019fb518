"""群众说事厅: halls, reception sessions and 下访 with the staff on duty, the matters said

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('halls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('town_id', 'name')
    )
    op.create_index(op.f('ix_halls_town_id'), 'halls', ['town_id'], unique=False)
    op.create_index(op.f('ix_halls_branch_id'), 'halls', ['branch_id'], unique=False)

    op.create_table('hall_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_hall_sessions_town_start', 'hall_sessions', ['town_id', 'starts_at'], unique=False)
    op.create_index('ix_hall_sessions_hall_start', 'hall_sessions', ['hall_id', 'starts_at'], unique=False)

    op.create_table('hall_session_hosts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['hall_sessions.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('session_id', 'staff_id')
    )
    op.create_index('ix_hall_session_hosts_staff', 'hall_session_hosts', ['staff_id'], unique=False)

    op.create_table('hall_matters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('visitor_name', sa.String(length=50), nullable=False),
    sa.Column('visitor_phone', sa.String(length=20), nullable=True),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('settled_note', sa.String(length=2000), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['hall_sessions.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_index('ix_hall_matters_session', 'hall_matters', ['session_id', 'id'], unique=False)
    op.create_index('ix_hall_matters_town_recorded', 'hall_matters', ['town_id', 'recorded_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_hall_matters_town_recorded', table_name='hall_matters')
    op.drop_index('ix_hall_matters_session', table_name='hall_matters')
    op.drop_table('hall_matters')
    op.drop_index('ix_hall_session_hosts_staff', table_name='hall_session_hosts')
    op.drop_table('hall_session_hosts')
    op.drop_index('ix_hall_sessions_hall_start', table_name='hall_sessions')
    op.drop_index('ix_hall_sessions_town_start', table_name='hall_sessions')
    op.drop_table('hall_sessions')
    op.drop_index(op.f('ix_halls_branch_id'), table_name='halls')
    op.drop_index(op.f('ix_halls_town_id'), table_name='halls')
    op.drop_table('halls')
