"""Training additions: certificates and enrolment reminders (training package)

Revision ID: c5c3e0000003
Revises: c4b2e0000002
Create Date: 2026-11-25 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5c3e0000003'
down_revision = 'c4b2e0000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('course_title', sa.String(length=200), nullable=False),
    sa.Column('academic_hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('nmo_id', sa.String(length=60), nullable=True),
    sa.Column('session_date', sa.Date(), nullable=False),
    sa.Column('trainer_name', sa.String(length=200), nullable=False),
    sa.Column('clinic_name', sa.String(length=300), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_certificates_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('enrolment_id', name=op.f('uq_certificates_enrolment_id')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    op.drop_table('certificates')
