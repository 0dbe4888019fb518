"""unattached photos by uploader, for the upload quota

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index('ix_photos_unattached', ['uploader_role', 'uploader_id', 'created_at'], unique=False, postgresql_where=sa.text('order_id IS NULL'), sqlite_where=sa.text('order_id IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_unattached', postgresql_where=sa.text('order_id IS NULL'), sqlite_where=sa.text('order_id IS NULL'))
