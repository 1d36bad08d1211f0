"""Clinic codes and active flags, room active flags, city sign-in subjects and ID tokens, refusals index

Revision ID: c8a7f0000006
Revises: c7e5f0000005
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8a7f0000006'
down_revision = 'c7e5f0000005'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and CREATE INDEX: no table is rebuilt on SQLite, so no trigger is lost.
    op.add_column('clinics', sa.Column('code', sa.String(length=40), nullable=True))
    op.add_column('clinics', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index('uq_clinics_code', 'clinics', ['code'], unique=True)
    op.add_column('rooms', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.create_index('uq_users_oidc_subject', 'users', ['oidc_subject'], unique=True)
    op.add_column('signin_sessions', sa.Column('id_token', sa.Text(), nullable=True))
    op.create_index('ix_audit_log_refusals_clinic_at', 'audit_log', ['clinic_id', 'at'], unique=False,
                    postgresql_where=sa.text("action = 'booking_refused'"),
                    sqlite_where=sa.text("action = 'booking_refused'"))


def downgrade():
    op.drop_index('ix_audit_log_refusals_clinic_at', table_name='audit_log')
    with op.batch_alter_table('signin_sessions', schema=None) as batch_op:
        batch_op.drop_column('id_token')
    op.drop_index('uq_users_oidc_subject', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('oidc_subject')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('active')
    op.drop_index('uq_clinics_code', table_name='clinics')
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('code')
