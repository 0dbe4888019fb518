"""吹哨报到: co-building units and their staff, whistles, whistle alerts, the town's whistle limits

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Existing towns get the default limits (24 h to report in, 2 h when urgent; 72 h to reply,
24 h when urgent); existing staff belong to no unit.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIMITS = {"whistle_report_minutes": 1440, "whistle_report_urgent_minutes": 120,
          "whistle_reply_minutes": 4320, "whistle_reply_urgent_minutes": 1440}


def upgrade() -> None:
    for name, minutes in LIMITS.items():
        op.add_column('towns', sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text(str(minutes))))

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('town_id', 'name')
    )
    op.create_index(op.f('ix_units_town_id'), 'units', ['town_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # In place, with its reference: rows elsewhere refer to staff, so no copy of the table.
        op.execute("ALTER TABLE staff ADD COLUMN unit_id INTEGER REFERENCES units (id)")
    else:
        op.add_column('staff', sa.Column('unit_id', sa.Integer(), nullable=True))
        op.create_foreign_key('staff_unit_id_fkey', 'staff', 'units', ['unit_id'], ['id'])
    op.create_index(op.f('ix_staff_unit_id'), 'staff', ['unit_id'], unique=False)

    op.create_table('whistles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('whistled_by_id', sa.Integer(), nullable=True),
    sa.Column('whistled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reply_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('reply_note', sa.String(length=2000), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=True),
    sa.Column('rating_stars', sa.Integer(), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_alert_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['replied_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['reported_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['whistled_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_whistles_order', 'whistles', ['order_id', 'id'], unique=False)
    op.create_index('ix_whistles_unit_state', 'whistles', ['unit_id', 'state', 'id'], unique=False)
    op.create_index('ix_whistles_town_whistled', 'whistles', ['town_id', 'whistled_at'], unique=False)
    op.create_index(op.f('ix_whistles_branch_id'), 'whistles', ['branch_id'], unique=False)
    op.create_index('ix_whistles_next_alert', 'whistles', ['next_alert_at'], unique=False,
                    postgresql_where=sa.text('next_alert_at IS NOT NULL'),
                    sqlite_where=sa.text('next_alert_at IS NOT NULL'))

    op.create_table('whistle_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('stage_version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=30), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('whistle_id', 'stage_version', 'kind', 'round', name='uq_whistle_alerts_once')
    )


def downgrade() -> None:
    op.drop_table('whistle_alerts')
    op.drop_index('ix_whistles_next_alert', table_name='whistles')
    op.drop_index(op.f('ix_whistles_branch_id'), table_name='whistles')
    op.drop_index('ix_whistles_town_whistled', table_name='whistles')
    op.drop_index('ix_whistles_unit_state', table_name='whistles')
    op.drop_index('ix_whistles_order', table_name='whistles')
    op.drop_table('whistles')
    op.drop_index(op.f('ix_staff_unit_id'), table_name='staff')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('staff', schema=None) as batch_op:
            batch_op.drop_column('unit_id')
    else:
        op.drop_constraint('staff_unit_id_fkey', 'staff', type_='foreignkey')
        op.drop_column('staff', 'unit_id')
    op.drop_index(op.f('ix_units_town_id'), table_name='units')
    op.drop_table('units')
    for name in reversed(LIMITS):
        op.drop_column('towns', name)
