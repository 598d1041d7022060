"""visit: index for an HSC's most recent visits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:30:00

"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_hsc_updated', ['hsc_id', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_hsc_updated')
