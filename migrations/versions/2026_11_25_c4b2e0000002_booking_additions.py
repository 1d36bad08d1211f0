"""Booking additions: reminder flag and partial indexes (booking package)

The reminder flag, and partial indexes over active bookings only: the room
schedule, the quota checks and the periodic jobs read few rows however long
the booking history grows.

Revision ID: c4b2e0000002
Revises: c3a1e0000001
Create Date: 2026-11-25 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4b2e0000002'
down_revision = 'c3a1e0000001'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('booked', 'checked_in')"
BOOKED = "status = 'booked'"


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_bookings_room_active_end', ['room_id', 'end_at'], unique=False,
                              postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
        batch_op.create_index('ix_bookings_user_active_end', ['user_id', 'end_at'], unique=False,
                              postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
        batch_op.create_index('ix_bookings_booked_start', ['start_at'], unique=False,
                              postgresql_where=sa.text(BOOKED), sqlite_where=sa.text(BOOKED))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_booked_start')
        batch_op.drop_index('ix_bookings_user_active_end')
        batch_op.drop_index('ix_bookings_room_active_end')
        batch_op.drop_column('reminder_sent_at')
