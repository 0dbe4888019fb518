"""buildings and households below the grid, 党员联户 and 党员中心户, the town's household flags

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Existing towns get the default household flags.
"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# domain.households.DEFAULT_HOUSEHOLD_FLAGS as of this revision: a migration keeps its own copy.
DEFAULT_FLAGS = ["独居老人", "空巢老人", "低保户", "残疾人", "困难家庭", "退役军人"]


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite copies no table for it); the default fills the existing towns
    # and stays, the same list the model gives a new town.
    op.add_column('towns', sa.Column('household_flags', sa.JSON(), nullable=False,
                                     server_default=sa.text("'" + json.dumps(DEFAULT_FLAGS, ensure_ascii=False) + "'")))

    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('group_leader_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_leader_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grid_id', 'name')
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index('ix_buildings_town', ['town_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buildings_group_leader_id'), ['group_leader_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('head_name', sa.String(length=50), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('people', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('paired_member_id', sa.Integer(), nullable=True),
    sa.Column('central_member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], ),
    sa.ForeignKeyConstraint(['central_member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['paired_member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grid_id', 'address'),
    sa.UniqueConstraint('central_member_id')
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_town', ['town_id', 'id'], unique=False)
        batch_op.create_index('ix_households_grid', ['grid_id', 'id'], unique=False)
        batch_op.create_index('ix_households_building', ['building_id', 'id'], unique=False)
        batch_op.create_index('ix_households_paired', ['paired_member_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_phone'), ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_phone'))
        batch_op.drop_index('ix_households_paired')
        batch_op.drop_index('ix_households_building')
        batch_op.drop_index('ix_households_grid')
        batch_op.drop_index('ix_households_town')
    op.drop_table('households')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_group_leader_id'))
        batch_op.drop_index('ix_buildings_town')
    op.drop_table('buildings')
    op.drop_column('towns', 'household_flags')
