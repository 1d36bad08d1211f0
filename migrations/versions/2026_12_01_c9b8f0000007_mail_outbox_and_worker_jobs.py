"""Mail outbox and worker jobs: e-mail written in the changing transaction, delivered by the worker (core package)

Revision ID: c9b8f0000007
Revises: c8a7f0000006
Create Date: 2026-12-01 06:08:25.734604

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9b8f0000007'
down_revision = 'c8a7f0000006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_mail_outbox_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    # The workers' claim is a range scan on next_attempt_at; sent and given-up messages (NULL) fall outside it.
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_next_attempt_at', ['next_attempt_at'], unique=False)

    op.create_table('worker_jobs',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_jobs'))
    )


def downgrade():
    op.drop_table('worker_jobs')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_next_attempt_at')

    op.drop_table('mail_outbox')
