"""Star grades: a town's weights, targets and thresholds (towns.star_rules; null: the defaults), and its public 晒分 board (off)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('towns', sa.Column('star_rules', sa.JSON(), nullable=True))
    op.add_column('towns', sa.Column('public_points_board_enabled', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    op.execute('ALTER TABLE towns DROP COLUMN public_points_board_enabled')
    op.execute('ALTER TABLE towns DROP COLUMN star_rules')
