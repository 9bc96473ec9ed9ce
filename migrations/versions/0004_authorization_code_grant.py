"""third-party apps: client types, redirect URIs and grants; codes, consents, sign-ins;
sessions that belong to an app

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # Existing clients are confidential client-credentials clients, as before.
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "client_type", sa.String(length=12), nullable=False, server_default="confidential"
            )
        )
        batch_op.add_column(
            sa.Column(
                "grant_types",
                sa.String(length=64),
                nullable=False,
                server_default="client_credentials",
            )
        )
        batch_op.add_column(
            sa.Column("redirect_uris", sa.Text(), nullable=False, server_default="")
        )

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("auth_time", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_auth_sessions_client_id"), ["client_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_auth_sessions_client_id_oauth_clients"),
            "oauth_clients",
            ["client_id"],
            ["client_id"],
            ondelete="CASCADE",
        )

    op.create_table(
        "oauth_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_oauth_authorization_codes_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_authorization_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_authorization_codes")),
    )
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "oauth_consents",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_oauth_consents_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_consents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "client_id", name=op.f("pk_oauth_consents")),
    )
    with op.batch_alter_table("oauth_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_consents_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "oauth_sign_ins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauth_sign_ins")),
    )
    with op.batch_alter_table("oauth_sign_ins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_sign_ins_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oauth_sign_ins_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("oauth_sign_ins")
    op.drop_table("oauth_consents")
    op.drop_table("oauth_authorization_codes")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_auth_sessions_client_id_oauth_clients"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_auth_sessions_client_id"))
        batch_op.drop_column("auth_time")
        batch_op.drop_column("client_id")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("redirect_uris")
        batch_op.drop_column("grant_types")
        batch_op.drop_column("client_type")
