"""events keep the facts the stats projection counts; the projection's cursor

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

The aggregates so far were kept by the moves themselves; from here the worker counts
them from the event log. The cursor starts after the last event there is, so what the
moves already counted is not counted again.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import storage.types


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FACTS = ('branch_id', 'grid_id', 'assignee_id', 'prev_branch_id', 'prev_grid_id', 'prev_assignee_id')


def upgrade() -> None:
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        for name in FACTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stage_started_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('stage_deadline', storage.types.UTCDateTime(), nullable=True))
    op.create_table(
        'projection_cursors',
        sa.Column('name', sa.String(length=30), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('gaps', sa.JSON(), nullable=False),
        sa.Column('as_of', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.execute(
        "INSERT INTO projection_cursors (name, event_id, gaps, as_of)"
        " SELECT 'stats', COALESCE(MAX(id), 0), '[]', CURRENT_TIMESTAMP FROM order_events"
    )


def downgrade() -> None:
    op.drop_table('projection_cursors')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        for name in (*FACTS, 'stage_started_at', 'stage_deadline'):
            batch_op.drop_column(name)
