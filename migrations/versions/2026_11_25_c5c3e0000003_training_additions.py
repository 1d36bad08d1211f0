"""training additions (tables of the training package)

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
    pass


def downgrade():
    pass
