"""Open311 GeoReport v2: client systems with API keys, categories' attributes, orders from the city's platforms

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0025'
down_revision: Union[str, None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('open311_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_digest', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_digest')
    )
    op.create_index(op.f('ix_open311_clients_town_id'), 'open311_clients', ['town_id'], unique=False)
    op.add_column('categories', sa.Column('attributes', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('categories', sa.Column('keywords', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('categories', sa.Column('group_name', sa.String(length=50), nullable=False, server_default=''))
    op.add_column('categories', sa.Column('public_requests', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    # Plain ADD COLUMNs: the batch mode of SQLite would copy the whole orders table.
    op.execute("ALTER TABLE orders ADD COLUMN attributes JSON NOT NULL DEFAULT '{}'")
    op.execute('ALTER TABLE orders ADD COLUMN open311_client_id INTEGER REFERENCES open311_clients (id)')
    op.execute('ALTER TABLE orders ADD COLUMN open311_token VARCHAR(40)')
    op.execute('ALTER TABLE orders ADD COLUMN media_url VARCHAR(500)')
    op.create_index('uq_orders_open311_token', 'orders', ['open311_token'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_orders_open311_token', table_name='orders')
    for name in ('media_url', 'open311_token', 'open311_client_id', 'attributes'):
        op.execute(f'ALTER TABLE orders DROP COLUMN {name}')
    for name in ('public_requests', 'group_name', 'keywords', 'attributes'):
        op.execute(f'ALTER TABLE categories DROP COLUMN {name}')
    op.drop_index(op.f('ix_open311_clients_town_id'), table_name='open311_clients')
    op.drop_table('open311_clients')
