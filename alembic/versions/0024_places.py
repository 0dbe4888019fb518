"""Places: grid outlines, routing by location, nearby orders and followers ("me too")

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0024'
down_revision: Union[str, None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('towns', sa.Column('route_distance_m', sa.Integer(), nullable=False, server_default='200'))
    op.add_column('towns', sa.Column('intake_grid_id', sa.Integer(), nullable=True))
    op.add_column('towns', sa.Column('nearby_radius_m', sa.Integer(), nullable=False, server_default='50'))
    op.add_column('towns', sa.Column('nearby_days', sa.Integer(), nullable=False, server_default='14'))
    op.add_column('grids', sa.Column('boundary', sa.Text(), nullable=True))
    for name in ('min_lng', 'min_lat', 'max_lng', 'max_lat'):
        op.add_column('grids', sa.Column(name, sa.Float(), nullable=True))
    op.create_index('ix_grids_town_box', 'grids', ['town_id', 'min_lat', 'max_lat'], unique=False,
                    postgresql_where=sa.text('boundary IS NOT NULL'), sqlite_where=sa.text('boundary IS NOT NULL'))
    # A plain ADD COLUMN: the batch mode of SQLite would copy the whole orders table.
    op.execute('ALTER TABLE orders ADD COLUMN duplicate_of_id INTEGER REFERENCES orders (id)')
    op.execute('ALTER TABLE orders ADD COLUMN follower_count INTEGER NOT NULL DEFAULT 0')
    op.create_index('ix_orders_category_place', 'orders', ['category_id', 'latitude', 'longitude'], unique=False,
                    postgresql_where=sa.text('latitude IS NOT NULL'), sqlite_where=sa.text('latitude IS NOT NULL'))
    op.create_table('order_followers',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.PrimaryKeyConstraint('order_id', 'resident_id')
    )
    op.create_index(op.f('ix_order_followers_resident_id'), 'order_followers', ['resident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_order_followers_resident_id'), table_name='order_followers')
    op.drop_table('order_followers')
    op.drop_index('ix_orders_category_place', table_name='orders')
    op.execute('ALTER TABLE orders DROP COLUMN follower_count')
    op.execute('ALTER TABLE orders DROP COLUMN duplicate_of_id')
    op.drop_index('ix_grids_town_box', table_name='grids')
    for name in ('max_lat', 'max_lng', 'min_lat', 'min_lng', 'boundary'):
        op.execute(f'ALTER TABLE grids DROP COLUMN {name}')
    for name in ('nearby_days', 'nearby_radius_m', 'intake_grid_id', 'route_distance_m'):
        op.execute(f'ALTER TABLE towns DROP COLUMN {name}')
