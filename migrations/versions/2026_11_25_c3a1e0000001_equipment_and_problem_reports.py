"""equipment and problem reports (tables of the clinics (issue: rooms, equipment) package)

Revision ID: c3a1e0000001
Revises: bc21fc4f9460
Create Date: 2026-11-25 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1e0000001'
down_revision = 'bc21fc4f9460'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
