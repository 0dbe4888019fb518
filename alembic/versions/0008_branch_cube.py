"""branch cube of the stats aggregates, indexes by cube

The town-wide and branch-wide numbers read a roll-up by (town, day, branch) instead of
summing the place cube, which holds about one stage-time row per order. Existing
aggregates are rolled up from the place cube.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21

"""
from typing import Sequence, Union

from alembic import op


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_CUBE = ['town_id', 'member_id', 'grid_id', 'day']


def upgrade() -> None:
    for table in ('stats_counts', 'stats_stage_times'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_town_day')
            batch_op.create_index(f'ix_{table}_cube', _CUBE, unique=False)
    # The place cube is the cells with a grid; the branch cube sums them per branch.
    op.execute(
        "INSERT INTO stats_counts (town_id, day, branch_id, grid_id, category_id, member_id, metric, n) "
        "SELECT town_id, day, branch_id, 0, 0, 0, metric, SUM(n) FROM stats_counts "
        "WHERE member_id = 0 AND grid_id <> 0 GROUP BY town_id, day, branch_id, metric"
    )
    op.execute(
        "INSERT INTO stats_stage_times "
        "(town_id, day, branch_id, grid_id, category_id, member_id, stage, bucket, n, seconds_sum) "
        "SELECT town_id, day, branch_id, 0, 0, 0, stage, bucket, SUM(n), SUM(seconds_sum) FROM stats_stage_times "
        "WHERE member_id = 0 AND grid_id <> 0 GROUP BY town_id, day, branch_id, stage, bucket"
    )


def downgrade() -> None:
    for table in ('stats_counts', 'stats_stage_times'):
        op.execute(f"DELETE FROM {table} WHERE member_id = 0 AND grid_id = 0")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_cube')
            batch_op.create_index(f'ix_{table}_town_day', ['town_id', 'day'], unique=False)
