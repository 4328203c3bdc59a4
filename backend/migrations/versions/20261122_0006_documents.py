"""Documents: uploaded scans (documents), responsibility agreements and issued documents with their QR tokens.

Revision ID: 0006_documents
Revises: 0005_workflows
Create Date: 2026-11-22 16:23:50.510441
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0006_documents"
down_revision: str | None = "0005_workflows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("documents", "agreements", "issued_documents")
ENUM_TYPES = (
    "document_owner_kind",
    "document_kind",
    "agreement_kind",
    "issued_document_kind",
    "issued_document_status",
)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column(
            "owner_kind",
            sa.Enum("person", "case", "agreement", "verification_request", name="document_owner_kind"),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "id_card",
                "marriage_certificate",
                "marriage_birth_certificate",
                "check_report",
                "agreement",
                "contact_evidence",
                "other",
                "issued",
                name="document_kind",
            ),
            nullable=False,
        ),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_label", sa.String(length=100), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_by", sa.String(length=100), nullable=True),
        sa.Column("destruction_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["documents.id"], name=op.f("fk_documents_supersedes_id_documents"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_documents_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("object_key", name=op.f("uq_documents_object_key")),
    )
    op.create_index(op.f("ix_documents_org_unit_code"), "documents", ["org_unit_code"], unique=False)
    op.create_index(op.f("ix_documents_owner_id"), "documents", ["owner_id"], unique=False)
    op.create_index(op.f("ix_documents_tenant_id"), "documents", ["tenant_id"], unique=False)
    op.create_table(
        "agreements",
        sa.Column(
            "kind",
            sa.Enum("responsibility_letter", "contract", "two_way_service", name="agreement_kind"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("parties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("template_name", sa.String(length=100), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("renews_id", sa.Uuid(), nullable=True),
        sa.Column("signed_document_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_agreements_person_id_persons"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["renews_id"], ["agreements.id"], name=op.f("fk_agreements_renews_id_agreements"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["signed_document_id"],
            ["documents.id"],
            name=op.f("fk_agreements_signed_document_id_documents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agreements_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index(op.f("ix_agreements_org_unit_code"), "agreements", ["org_unit_code"], unique=False)
    op.create_index(op.f("ix_agreements_person_id"), "agreements", ["person_id"], unique=False)
    op.create_index(op.f("ix_agreements_tenant_id"), "agreements", ["tenant_id"], unique=False)
    op.create_table(
        "issued_documents",
        sa.Column(
            "kind",
            sa.Enum(
                "marriage_birth_certificate",
                "first_child_registration",
                "refusal_letter",
                "verification_request_letter",
                "contraception_report",
                name="issued_document_kind",
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("verify_token", sa.String(length=80), nullable=False),
        sa.Column("issuing_unit_code", sa.String(length=12), nullable=False),
        sa.Column("issuing_unit_name", sa.String(length=100), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.Enum("valid", "revoked", "superseded", name="issued_document_status"), nullable=False),
        sa.Column("superseded_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_issued_documents_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_issued_documents_document_id_documents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["issued_documents.id"],
            name=op.f("fk_issued_documents_superseded_by_id_issued_documents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_issued_documents_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_issued_documents_tenant_id_number")),
        sa.UniqueConstraint("verify_token", name=op.f("uq_issued_documents_verify_token")),
    )
    op.create_index(op.f("ix_issued_documents_case_id"), "issued_documents", ["case_id"], unique=False)
    op.create_index(op.f("ix_issued_documents_tenant_id"), "issued_documents", ["tenant_id"], unique=False)
    for table in TABLES:
        helpers.enable_tenant_rls(table)
        # Rows are never deleted: destruction keeps the row as a tombstone.
        helpers.grant_app(table, "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_documents_tenant_id"), table_name="issued_documents")
    op.drop_index(op.f("ix_issued_documents_case_id"), table_name="issued_documents")
    op.drop_table("issued_documents")
    op.drop_index(op.f("ix_agreements_tenant_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_person_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_org_unit_code"), table_name="agreements")
    op.drop_table("agreements")
    op.drop_index(op.f("ix_documents_tenant_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_owner_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_org_unit_code"), table_name="documents")
    op.drop_table("documents")
    for enum_type in ENUM_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {enum_type}")
