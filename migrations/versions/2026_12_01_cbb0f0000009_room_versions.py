"""Room versions: a number per room raised with every change to its availability (booking package's cache)

Revision ID: cbb0f0000009
Revises: caa9f0000008
Create Date: 2026-12-01 14:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cbb0f0000009'
down_revision = 'caa9f0000008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'room_versions',
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_versions_room_id_rooms'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('room_id', name=op.f('pk_room_versions')),
    )
    # Versions start at random: answers kept under a version of a database since restored never match.
    op.execute(sa.text("INSERT INTO room_versions (room_id, version) SELECT id, :start FROM rooms")
               .bindparams(start=secrets.randbits(62)))


def downgrade():
    op.drop_table('room_versions')
