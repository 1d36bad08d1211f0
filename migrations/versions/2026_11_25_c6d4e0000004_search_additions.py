"""search additions (tables of the search package)

Revision ID: c6d4e0000004
Revises: c5c3e0000003
Create Date: 2026-11-25 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6d4e0000004'
down_revision = 'c5c3e0000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
