"""Search additions: linked sources, resources, link prefix, reading list (search package)

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
    # Only switched-off sources get a row: a new clinic has every source linked.
    op.create_table('search_unlinked_sources',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_search_unlinked_sources_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('clinic_id', 'source', name=op.f('pk_search_unlinked_sources'))
    )
    op.create_table('search_clinic_settings',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('link_prefix', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_search_clinic_settings_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_search_clinic_settings'))
    )
    op.create_table('search_linked_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('access_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_search_linked_resources_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_linked_resources')),
    sa.UniqueConstraint('clinic_id', 'name', name=op.f('uq_search_linked_resources_clinic_id_name'))
    )
    op.create_table('search_saved_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('work_key', sa.String(length=300), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('journal', sa.String(length=500), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('doi', sa.String(length=255), nullable=True),
    sa.Column('pmid', sa.String(length=20), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_search_saved_references_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_saved_references')),
    sa.UniqueConstraint('user_id', 'work_key', name=op.f('uq_search_saved_references_user_id_work_key'))
    )
    with op.batch_alter_table('search_saved_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_saved_references_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('search_saved_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_saved_references_user_id'))

    op.drop_table('search_saved_references')
    op.drop_table('search_linked_resources')
    op.drop_table('search_clinic_settings')
    op.drop_table('search_unlinked_sources')
