"""Training edits: a session's own trainer, when each seat was given, cancelled courses (training package)

Revision ID: caa9f0000008
Revises: c9b8f0000007
Create Date: 2026-12-01 12:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'caa9f0000008'
down_revision = 'c9b8f0000007'
branch_labels = None
depends_on = None


@contextmanager
def _rebuilding_training_sessions():
    """On SQLite a new foreign key means rebuilding training_sessions (Alembic's batch copy), which drops
    its overlap triggers: they are read first and created again after, and the keys of the tables that
    reference it are checked (migrations/env.py turns their enforcement off while migrating)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    triggers = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                    "AND tbl_name = 'training_sessions'")).scalars().all()
    yield
    for statement in triggers:
        op.execute(statement)
    broken = bind.execute(sa.text("PRAGMA foreign_key_check")).all()
    if broken:
        raise RuntimeError(f"foreign keys broken by rebuilding training_sessions: {broken}")


def upgrade():
    with _rebuilding_training_sessions():
        with op.batch_alter_table('training_sessions', schema=None) as batch_op:
            batch_op.add_column(sa.Column('trainer_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_training_sessions_trainer_id_users'), 'users',
                                        ['trainer_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    # Existing sessions are run by their course's trainer; existing seats were last given at their last change.
    op.execute("UPDATE training_sessions SET trainer_id = "
               "(SELECT courses.trainer_id FROM courses WHERE courses.id = training_sessions.course_id)")
    op.execute("UPDATE enrolments SET seated_at = updated_at WHERE status IN ('enrolled', 'attended', 'absent')")


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('seated_at')
    with _rebuilding_training_sessions():
        with op.batch_alter_table('training_sessions', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_training_sessions_trainer_id_users'), type_='foreignkey')
            batch_op.drop_column('trainer_id')
