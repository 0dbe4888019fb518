"""党员积分 as a passbook: every change of a member's points an entry, the rules in versions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

What the old counters held (`member_points`, counted at each completion) is carried over as
one entry a member a day (rule `carried_over`), so every board shows what it showed before;
each town's three point settings become its version 1 of the rules, in effect from then on.
`towns.passbook_since` marks when the passbook began: an attempt completed before it was
already counted at its completion, and its judgment adds only what the old rules gave at a
rating (the five-star bonus). The counters and the settings are then dropped.
"""
from datetime import datetime, time, timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POINT_SETTINGS = ('points_completed', 'points_five_star', 'points_overdue')


def upgrade() -> None:
    op.create_table('point_rule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('closed_satisfied', sa.Integer(), nullable=False),
    sa.Column('five_star', sa.Integer(), nullable=False),
    sa.Column('default_close', sa.Integer(), nullable=False),
    sa.Column('low_rating', sa.Integer(), nullable=False),
    sa.Column('overdue_completion', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('town_id', 'version')
    )
    op.create_table('point_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('activity', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['order_events.id'], ),
    sa.ForeignKeyConstraint(['granted_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_point_entries_town_day', 'point_entries', ['town_id', 'day'], unique=False)
    op.create_index('ix_point_entries_member_day', 'point_entries', ['member_id', 'day'], unique=False)
    op.create_index('ix_point_entries_order', 'point_entries', ['order_id'], unique=False)
    op.create_index('uq_point_entries_event_rule', 'point_entries', ['event_id', 'rule'], unique=True,
                    postgresql_where=sa.text('event_id IS NOT NULL'), sqlite_where=sa.text('event_id IS NOT NULL'))
    op.add_column('towns', sa.Column('passbook_since', sa.DateTime(timezone=True), nullable=True))

    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    towns = bind.execute(sa.text(
        'SELECT id, timezone, points_completed, points_five_star, points_overdue FROM towns')).all()
    versions = sa.table('point_rule_versions', *(sa.column(c) for c in (
        'town_id', 'version', 'effective_from', 'closed_satisfied', 'five_star', 'default_close', 'low_rating',
        'overdue_completion', 'created_at')))
    entries = sa.table('point_entries', *(sa.column(c) for c in (
        'town_id', 'branch_id', 'member_id', 'at', 'day', 'points', 'rule', 'reason')))
    for town_id, zone, completed, five_star, overdue in towns:
        today = now.astimezone(ZoneInfo(zone)).date()
        bind.execute(versions.insert().values(
            town_id=town_id, version=1, effective_from=today, closed_satisfied=completed, five_star=five_star,
            default_close=completed, low_rating=-3, overdue_completion=overdue, created_at=now))
        carried = bind.execute(sa.text(
            'SELECT branch_id, member_id, day, points FROM member_points WHERE town_id = :town AND points <> 0'
            ' ORDER BY day, member_id'), {'town': town_id}).all()
        rows = []
        for branch_id, member_id, day, points in carried:
            if isinstance(day, str):  # SQLite hands dates back as text
                day = datetime.strptime(day, '%Y-%m-%d').date()
            at = datetime.combine(day, time(12), ZoneInfo(zone)).astimezone(timezone.utc)
            rows.append({'town_id': town_id, 'branch_id': branch_id, 'member_id': member_id, 'at': at,
                         'day': day, 'points': points, 'rule': 'carried_over', 'reason': '积分存折启用前累计'})
        if rows:
            bind.execute(entries.insert(), rows)
    bind.execute(sa.text('UPDATE towns SET passbook_since = :now'), {'now': now})

    op.drop_index('ix_member_points_town_day', table_name='member_points')
    op.drop_table('member_points')
    for column in POINT_SETTINGS:
        # SQLite drops a plain column in place (3.35+): towns is referred to by every table.
        op.execute(f'ALTER TABLE towns DROP COLUMN {column}')


def downgrade() -> None:
    bind = op.get_bind()
    for column, default in zip(POINT_SETTINGS, ('10', '5', '-5')):
        op.execute(f'ALTER TABLE towns ADD COLUMN {column} INTEGER NOT NULL DEFAULT {default}')
    # Each town's settings back from its latest version of the rules.
    latest = bind.execute(sa.text(
        'SELECT town_id, closed_satisfied, five_star, overdue_completion FROM point_rule_versions v'
        ' WHERE version = (SELECT MAX(version) FROM point_rule_versions w WHERE w.town_id = v.town_id)')).all()
    for town_id, completed, five_star, overdue in latest:
        bind.execute(sa.text('UPDATE towns SET points_completed = :c, points_five_star = :f, points_overdue = :o'
                             ' WHERE id = :t'), {'c': completed, 'f': five_star, 'o': overdue, 't': town_id})
    op.create_table('member_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('five_star', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'day', name='uq_member_points_day')
    )
    op.create_index('ix_member_points_town_day', 'member_points', ['town_id', 'day'], unique=False)
    # The passbook's sums by member and day, as the counters held them.
    bind.execute(sa.text(
        "INSERT INTO member_points (town_id, branch_id, member_id, day, points, completed, five_star, overdue)"
        " SELECT town_id, COALESCE(MAX(branch_id), 0), member_id, day, SUM(points),"
        " SUM(CASE WHEN rule IN ('closed_satisfied', 'default_close') THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN rule = 'five_star' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN rule = 'overdue_completion' THEN 1 ELSE 0 END)"
        " FROM point_entries GROUP BY town_id, member_id, day"))
    op.execute('ALTER TABLE towns DROP COLUMN passbook_since')
    op.drop_index('uq_point_entries_event_rule', table_name='point_entries')
    op.drop_index('ix_point_entries_order', table_name='point_entries')
    op.drop_index('ix_point_entries_member_day', table_name='point_entries')
    op.drop_index('ix_point_entries_town_day', table_name='point_entries')
    op.drop_table('point_entries')
    op.drop_table('point_rule_versions')
