"""Clinical guidelines: the rubricator's catalogue, its full-text search, guidelines on the reading list

The full-text search objects are dialect-specific and outside the models
(portal/search/guidelines/models.py): on PostgreSQL a GIN index over
to_tsvector('russian', search_text); on SQLite an FTS5 table over the same
column, kept by triggers. The new source needs no rows: a clinic stores only
the sources it switched off, so every existing clinic has it linked.

Revision ID: c7e5f0000005
Revises: c6d4e0000004
Create Date: 2026-12-01 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e5f0000005'
down_revision = 'c6d4e0000004'
branch_labels = None
depends_on = None

FTS_TABLE = "search_guidelines_fts"
FTS_INDEX = "ix_search_guidelines_fts"


def upgrade():
    op.create_table('search_guideline_sync',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_origin', sa.String(length=20), nullable=True),
    sa.Column('guideline_count', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('running_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_guideline_sync'))
    )
    op.create_table('search_guidelines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_version', sa.String(length=40), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rubricator_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('age_category', sa.SmallInteger(), nullable=True),
    sa.Column('age_label', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('applies_now', sa.Boolean(), nullable=False),
    sa.Column('council_approved', sa.Boolean(), nullable=True),
    sa.Column('developers', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_guidelines')),
    sa.UniqueConstraint('code_version', name=op.f('uq_search_guidelines_code_version'))
    )
    op.create_table('search_guideline_mkb_codes',
    sa.Column('guideline_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['guideline_id'], ['search_guidelines.id'], name=op.f('fk_search_guideline_mkb_codes_guideline_id_search_guidelines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('guideline_id', 'code', name=op.f('pk_search_guideline_mkb_codes'))
    )
    with op.batch_alter_table('search_guideline_mkb_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_guideline_mkb_codes_code'), ['code'], unique=False)

    with op.batch_alter_table('search_saved_references', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='article', nullable=False))
        batch_op.add_column(sa.Column('report_number', sa.String(length=40), nullable=True))

    _create_full_text_search()


def _create_full_text_search():
    """PostgreSQL: the 'russian' configuration over search_text, GIN-indexed. SQLite: FTS5 over
    search_text (which already carries the Russian stems), an external-content table that the
    triggers keep in step with every insert, update and delete of a guideline."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {FTS_INDEX} ON search_guidelines "
                   "USING gin (to_tsvector('russian'::regconfig, search_text))")
        return
    op.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_text, content='search_guidelines', "
               "content_rowid='id', tokenize='unicode61 remove_diacritics 0')")
    delete_old = (f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
                  "VALUES ('delete', old.id, old.search_text);")
    insert_new = f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);"
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON search_guidelines BEGIN {insert_new} END")
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON search_guidelines BEGIN {delete_old} END")
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_text ON search_guidelines "
               f"BEGIN {delete_old} {insert_new} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {FTS_INDEX}")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {FTS_TABLE}_{event}")
        op.execute(f"DROP TABLE {FTS_TABLE}")

    with op.batch_alter_table('search_saved_references', schema=None) as batch_op:
        batch_op.drop_column('report_number')
        batch_op.drop_column('kind')

    with op.batch_alter_table('search_guideline_mkb_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_guideline_mkb_codes_code'))

    op.drop_table('search_guideline_mkb_codes')
    op.drop_table('search_guidelines')
    op.drop_table('search_guideline_sync')
