"""change alerts sent per audit, and dataset usage per run

Revision ID: 0005_alerts_and_demand
Revises: 0004_run_outputs_admin_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_alerts_and_demand"
down_revision = "0004_run_outputs_admin_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["audit_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "organization_name"),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_delivery_run_id"), ["run_id"], unique=False)
    op.create_table(
        "dataset_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(length=200), nullable=False),
        sa.Column("views_total", sa.Integer(), nullable=True),
        sa.Column("views_recent", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["audit_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "dataset_name"),
    )
    with op.batch_alter_table("dataset_demand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_demand_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_demand_run_id"))
    op.drop_table("dataset_demand")
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_run_id"))
    op.drop_table("alert_delivery")
