"""三张清单: community needs, resources of members and units, the resources a project uses

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Existing projects were matched from no community need (`projects.need_id` is null).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('community_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_community_needs_town_state', 'community_needs', ['town_id', 'state', 'id'], unique=False)
    op.create_table('resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('amount', sa.String(length=50), nullable=True),
    sa.Column('category_ids', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_resources_town', 'resources', ['town_id', 'id'], unique=False)
    op.create_table('project_resources',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('project_id', 'resource_id')
    )
    op.create_index('ix_project_resources_resource', 'project_resources', ['resource_id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE projects ADD COLUMN need_id INTEGER REFERENCES community_needs (id)")
    else:
        op.add_column('projects', sa.Column('need_id', sa.Integer(), nullable=True))
        op.create_foreign_key('projects_need_id_fkey', 'projects', 'community_needs', ['need_id'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('projects', schema=None) as batch_op:
            batch_op.drop_column('need_id')
    else:
        op.drop_constraint('projects_need_id_fkey', 'projects', type_='foreignkey')
        op.drop_column('projects', 'need_id')
    op.drop_index('ix_project_resources_resource', table_name='project_resources')
    op.drop_table('project_resources')
    op.drop_index('ix_resources_town', table_name='resources')
    op.drop_table('resources')
    op.drop_index('ix_community_needs_town_state', table_name='community_needs')
    op.drop_table('community_needs')
