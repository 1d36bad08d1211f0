"""booking additions (tables of the booking package)

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


def upgrade():
    pass


def downgrade():
    pass
