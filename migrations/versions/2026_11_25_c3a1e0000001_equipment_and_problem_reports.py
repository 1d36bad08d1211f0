"""Equipment items with their history, and problem reports (clinics package)

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
    op.create_table('equipment_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('workstation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('inventory_number', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('in_service', 'broken', 'in_repair', 'retired')", name=op.f('ck_equipment_items_status_known')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_equipment_items_room_id_rooms')),
    sa.ForeignKeyConstraint(['workstation_id'], ['workstations.id'], name=op.f('fk_equipment_items_workstation_id_workstations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_items')),
    sa.UniqueConstraint('inventory_number', name=op.f('uq_equipment_items_inventory_number'))
    )
    with op.batch_alter_table('equipment_items', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_items_room_status', ['room_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_items_workstation_id'), ['workstation_id'], unique=False)

    op.create_table('equipment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_equipment_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['equipment_items.id'], name=op.f('fk_equipment_events_item_id_equipment_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_events'))
    )
    with op.batch_alter_table('equipment_events', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_events_item_at', ['item_id', 'at'], unique=False)

    op.create_table('problem_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('workstation_id', sa.Integer(), nullable=True),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name=op.f('ck_problem_reports_status_known')),
    sa.CheckConstraint('workstation_id IS NOT NULL OR equipment_id IS NOT NULL', name=op.f('ck_problem_reports_has_target')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment_items.id'], name=op.f('fk_problem_reports_equipment_id_equipment_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_problem_reports_reporter_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_problem_reports_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_problem_reports_room_id_rooms')),
    sa.ForeignKeyConstraint(['workstation_id'], ['workstations.id'], name=op.f('fk_problem_reports_workstation_id_workstations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_reports'))
    )
    with op.batch_alter_table('problem_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_problem_reports_room_status', ['room_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('problem_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_reports_room_status')
        batch_op.drop_index(batch_op.f('ix_problem_reports_reporter_id'))

    op.drop_table('problem_reports')
    with op.batch_alter_table('equipment_events', schema=None) as batch_op:
        batch_op.drop_index('ix_equipment_events_item_at')

    op.drop_table('equipment_events')
    with op.batch_alter_table('equipment_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_items_workstation_id'))
        batch_op.drop_index('ix_equipment_items_room_status')

    op.drop_table('equipment_items')
