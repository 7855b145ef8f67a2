"""team server: index applied batch keys by age, so old keys are pruned cheaply

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applied_batches", schema=None) as batch_op:
        batch_op.create_index("ix_applied_batches_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("applied_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_applied_batches_created_at")
