"""revoked tokens name their holder, so one holder's Redis mirror can be rebuilt alone

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=72), nullable=True))
        batch_op.create_index(batch_op.f("ix_revoked_tokens_holder"), ["holder"], unique=False)


def downgrade():
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_holder"))
        batch_op.drop_column("holder")
