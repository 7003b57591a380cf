"""Products, reservations and reservation lines.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(5000), nullable=False),
        sa.Column("category", sa.String(63), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("available_quantity", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delete_time", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("price_cents > 0", name=op.f("ck_products_price_positive")),
        sa.CheckConstraint(
            "available_quantity >= 0", name=op.f("ck_products_available_quantity_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index("ix_products_category", "products", ["category"])
    op.create_index("ix_products_create_time", "products", ["create_time", "id"])
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('RESERVED', 'COMMITTED', 'RELEASED')", name=op.f("ck_reservations_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(63), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.CheckConstraint(
            "quantity BETWEEN 1 AND 100", name=op.f("ck_reservation_lines_quantity_range")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_lines_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_reservation_lines_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("reservation_id", "product_id", name=op.f("pk_reservation_lines")),
    )
    op.create_index("ix_reservation_lines_product_id", "reservation_lines", ["product_id"])


def downgrade() -> None:
    op.drop_index("ix_reservation_lines_product_id", table_name="reservation_lines")
    op.drop_table("reservation_lines")
    op.drop_table("reservations")
    op.drop_index("ix_products_create_time", table_name="products")
    op.drop_index("ix_products_category", table_name="products")
    op.drop_table("products")
