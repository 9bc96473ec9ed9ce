"""auth_sessions.auth_time goes: written for every session, never read (an app's ID token
takes `auth_time` from its authorization code, and no ID token is issued at refresh)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("auth_time")


def downgrade():
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_time", sa.DateTime(timezone=True), nullable=True))
