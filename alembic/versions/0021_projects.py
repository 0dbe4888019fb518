"""Projects (共建项目, 领办项目): a year's projects, their milestones and orders; photos of a project

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Existing photos belong to orders (or to nobody yet): `photos.project_id` is null.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lead_member_id', sa.Integer(), nullable=True),
    sa.Column('action_team_id', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_note', sa.String(length=2000), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_team_id'], ['action_teams.id'], ),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['lead_member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['published_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_projects_town_year', 'projects', ['town_id', 'year', 'id'], unique=False)
    op.create_index(op.f('ix_projects_branch_id'), 'projects', ['branch_id'], unique=False)
    op.create_table('project_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_project_milestones_project', 'project_milestones', ['project_id', 'id'], unique=False)
    op.create_table('project_orders',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('project_id', 'order_id')
    )
    op.create_index('ix_project_orders_order', 'project_orders', ['order_id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE photos ADD COLUMN project_id INTEGER REFERENCES projects (id)")
        op.execute("ALTER TABLE photos ADD COLUMN milestone_id INTEGER REFERENCES project_milestones (id)")
    else:
        op.add_column('photos', sa.Column('project_id', sa.Integer(), nullable=True))
        op.add_column('photos', sa.Column('milestone_id', sa.Integer(), nullable=True))
        op.create_foreign_key('photos_project_id_fkey', 'photos', 'projects', ['project_id'], ['id'])
        op.create_foreign_key('photos_milestone_id_fkey', 'photos', 'project_milestones', ['milestone_id'], ['id'])
    op.create_index(op.f('ix_photos_project_id'), 'photos', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_photos_project_id'), table_name='photos')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('photos', schema=None) as batch_op:
            batch_op.drop_column('milestone_id')
            batch_op.drop_column('project_id')
    else:
        op.drop_constraint('photos_milestone_id_fkey', 'photos', type_='foreignkey')
        op.drop_constraint('photos_project_id_fkey', 'photos', type_='foreignkey')
        op.drop_column('photos', 'milestone_id')
        op.drop_column('photos', 'project_id')
    op.drop_index('ix_project_orders_order', table_name='project_orders')
    op.drop_table('project_orders')
    op.drop_index('ix_project_milestones_project', table_name='project_milestones')
    op.drop_table('project_milestones')
    op.drop_index(op.f('ix_projects_branch_id'), table_name='projects')
    op.drop_index('ix_projects_town_year', table_name='projects')
    op.drop_table('projects')
