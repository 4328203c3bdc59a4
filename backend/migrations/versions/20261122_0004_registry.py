"""Registry and cases: persons (ID and phone encrypted), children, certificates (婚育证明) with inspections,
cases with subjects, links, per-county case-type overrides and case numbering.

Revision ID: 0004_registry
Revises: 0003_identity
Create Date: 2026-11-22 14:02:32.588424
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0004_registry"
down_revision: str | None = "0003_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = (
    "case_counters",
    "case_type_configs",
    "persons",
    "cases",
    "certificates",
    "person_children",
    "case_links",
    "case_subjects",
    "certificate_inspections",
)
ENUM_TYPES = (
    "sex",
    "flow_direction",
    "marital_status",
    "contraception_measure",
    "person_status",
    "case_stage",
    "case_status",
    "case_priority",
    "case_outcome",
    "certificate_status",
    "inspection_result",
)


def upgrade() -> None:
    # Trigram indexes make name search (Chinese characters and pinyin) fast; pg_trgm is a trusted extension,
    # so the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "case_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_counters_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "case_type_configs",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_type_configs_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_type_configs")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_case_type_configs_tenant_id_code")),
    )
    op.create_index(op.f("ix_case_type_configs_tenant_id"), "case_type_configs", ["tenant_id"], unique=False)
    op.create_table(
        "persons",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_pinyin", sa.String(length=120), nullable=False),
        sa.Column("name_initials", sa.String(length=20), nullable=False),
        sa.Column("sex", sa.Enum("male", "female", name="sex"), nullable=False),
        sa.Column("ethnicity", sa.String(length=20), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("resident_id_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("resident_id_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column(
            "flow_direction", sa.Enum("inflow", "outflow", "within_county", name="flow_direction"), nullable=False
        ),
        sa.Column("flow_date", sa.Date(), nullable=True),
        sa.Column("registration_division_code", sa.String(length=12), nullable=True),
        sa.Column("registration_address", sa.String(length=200), nullable=True),
        sa.Column("residence_division_code", sa.String(length=12), nullable=True),
        sa.Column("residence_address", sa.String(length=200), nullable=True),
        sa.Column("flow_origin_destination", sa.String(length=200), nullable=True),
        sa.Column("landlord_or_employer", sa.String(length=200), nullable=True),
        sa.Column(
            "marital_status",
            sa.Enum("unmarried", "first_marriage", "remarried", "divorced", "widowed", name="marital_status"),
            nullable=True,
        ),
        sa.Column("spouse_id", sa.Uuid(), nullable=True),
        sa.Column(
            "contraception_measure",
            sa.Enum(
                "none",
                "iud",
                "sterilisation",
                "implant",
                "injection",
                "pill",
                "condom",
                "other",
                name="contraception_measure",
            ),
            nullable=True,
        ),
        sa.Column("contraception_date", sa.Date(), nullable=True),
        sa.Column("key_subject", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.Enum("active", "departed", "merged", name="person_status"), nullable=False),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["persons.id"], name=op.f("fk_persons_merged_into_id_persons"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["spouse_id"], ["persons.id"], name=op.f("fk_persons_spouse_id_persons"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_persons_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_index(
        "ix_persons_name_trgm",
        "persons",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index("ix_persons_phone_hash", "persons", ["tenant_id", "phone_hash"], unique=False)
    op.create_index(
        "ix_persons_pinyin_trgm",
        "persons",
        ["name_pinyin"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name_pinyin": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_persons_tenant_id"), "persons", ["tenant_id"], unique=False)
    op.create_index(
        "ix_persons_unit",
        "persons",
        ["tenant_id", "org_unit_code"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_index(
        "uq_persons_resident_id_hash",
        "persons",
        ["tenant_id", "resident_id_hash"],
        unique=True,
        postgresql_where="resident_id_hash IS NOT NULL AND status <> 'merged'",
    )
    op.create_table(
        "cases",
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("case_type", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "registration", "verification", "service_delivery", "follow_up", "audit", "closed", name="case_stage"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.Enum("open", "waiting", "suspended", "done", name="case_status"), nullable=False),
        sa.Column("priority", sa.Enum("low", "normal", "high", "urgent", name="case_priority"), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("primary_person_id", sa.Uuid(), nullable=True),
        sa.Column("subject_name", sa.String(length=50), nullable=False),
        sa.Column("subject_pinyin", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("registered", "deferred", "refused", "completed", "withdrawn", "no_action", name="case_outcome"),
            nullable=True,
        ),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_cases_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["primary_person_id"], ["persons.id"], name=op.f("fk_cases_primary_person_id_persons"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cases_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_cases_tenant_id_number")),
    )
    op.create_index("ix_cases_assignee_due", "cases", ["tenant_id", "assignee_id", "due_at"], unique=False)
    op.create_index(
        "ix_cases_open_due", "cases", ["tenant_id", "due_at"], unique=False, postgresql_where="stage <> 'closed'"
    )
    op.create_index(op.f("ix_cases_primary_person_id"), "cases", ["primary_person_id"], unique=False)
    op.create_index("ix_cases_stage_due", "cases", ["tenant_id", "stage", "due_at"], unique=False)
    op.create_index(op.f("ix_cases_tenant_id"), "cases", ["tenant_id"], unique=False)
    op.create_index(
        "ix_cases_unit_due",
        "cases",
        ["tenant_id", "org_unit_code", "due_at"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "certificates",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issuing_unit_code", sa.String(length=12), nullable=False),
        sa.Column("issuing_unit_name", sa.String(length=100), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column(
            "status", sa.Enum("valid", "expired", "renewed", "revoked", name="certificate_status"), nullable=False
        ),
        sa.Column("issued_by_proxy", sa.Boolean(), nullable=False),
        sa.Column("proxy_name", sa.String(length=50), nullable=True),
        sa.Column("renews_id", sa.Uuid(), nullable=True),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_certificates_person_id_persons"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["renews_id"], ["certificates.id"], name=op.f("fk_certificates_renews_id_certificates"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_certificates_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_certificates_tenant_id_number")),
    )
    op.create_index(op.f("ix_certificates_org_unit_code"), "certificates", ["org_unit_code"], unique=False)
    op.create_index(op.f("ix_certificates_person_id"), "certificates", ["person_id"], unique=False)
    op.create_index(op.f("ix_certificates_tenant_id"), "certificates", ["tenant_id"], unique=False)
    op.create_table(
        "person_children",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("birth_order", sa.Integer(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", postgresql.ENUM("male", "female", name="sex", create_type=False), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_person_children_person_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_person_children_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_children")),
        sa.UniqueConstraint("person_id", "birth_order", name=op.f("uq_person_children_person_id_birth_order")),
    )
    op.create_index(op.f("ix_person_children_person_id"), "person_children", ["person_id"], unique=False)
    op.create_index(op.f("ix_person_children_tenant_id"), "person_children", ["tenant_id"], unique=False)
    op.create_table(
        "case_links",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("linked_case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_links_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["linked_case_id"], ["cases.id"], name=op.f("fk_case_links_linked_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_links_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint("case_id", "linked_case_id", name=op.f("uq_case_links_case_id_linked_case_id")),
    )
    op.create_index(op.f("ix_case_links_case_id"), "case_links", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_links_tenant_id"), "case_links", ["tenant_id"], unique=False)
    op.create_table(
        "case_subjects",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_subjects_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_case_subjects_person_id_persons"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_subjects_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_subjects")),
        sa.UniqueConstraint("case_id", "person_id", name=op.f("uq_case_subjects_case_id_person_id")),
    )
    op.create_index(op.f("ix_case_subjects_case_id"), "case_subjects", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_subjects_person_id"), "case_subjects", ["person_id"], unique=False)
    op.create_index(op.f("ix_case_subjects_tenant_id"), "case_subjects", ["tenant_id"], unique=False)
    op.create_table(
        "certificate_inspections",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=True),
        sa.Column("inspector_name", sa.String(length=100), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column(
            "result",
            sa.Enum("valid", "status_changed", "expired", "missing", "invalid", name="inspection_result"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_inspections_certificate_id_certificates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["users.id"],
            name=op.f("fk_certificate_inspections_inspector_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_certificate_inspections_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_inspections")),
    )
    op.create_index(
        op.f("ix_certificate_inspections_certificate_id"), "certificate_inspections", ["certificate_id"], unique=False
    )
    op.create_index(
        op.f("ix_certificate_inspections_tenant_id"), "certificate_inspections", ["tenant_id"], unique=False
    )
    for table in TABLES:
        helpers.enable_tenant_rls(table)
    # Registry rows are never deleted by the application: people depart (status) or are merged (reversibly).
    for table in ("persons", "certificates", "certificate_inspections", "cases", "case_type_configs", "case_counters"):
        helpers.grant_app(table, "SELECT, INSERT, UPDATE")
    # Children, subjects and links are edited as lists on their parent.
    for table in ("person_children", "case_subjects", "case_links"):
        helpers.grant_app(table)


def downgrade() -> None:
    op.drop_index(op.f("ix_certificate_inspections_tenant_id"), table_name="certificate_inspections")
    op.drop_index(op.f("ix_certificate_inspections_certificate_id"), table_name="certificate_inspections")
    op.drop_table("certificate_inspections")
    op.drop_index(op.f("ix_case_subjects_tenant_id"), table_name="case_subjects")
    op.drop_index(op.f("ix_case_subjects_person_id"), table_name="case_subjects")
    op.drop_index(op.f("ix_case_subjects_case_id"), table_name="case_subjects")
    op.drop_table("case_subjects")
    op.drop_index(op.f("ix_case_links_tenant_id"), table_name="case_links")
    op.drop_index(op.f("ix_case_links_case_id"), table_name="case_links")
    op.drop_table("case_links")
    op.drop_index(op.f("ix_person_children_tenant_id"), table_name="person_children")
    op.drop_index(op.f("ix_person_children_person_id"), table_name="person_children")
    op.drop_table("person_children")
    op.drop_index(op.f("ix_certificates_tenant_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_person_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_org_unit_code"), table_name="certificates")
    op.drop_table("certificates")
    op.drop_index("ix_cases_unit_due", table_name="cases", postgresql_ops={"org_unit_code": "text_pattern_ops"})
    op.drop_index(op.f("ix_cases_tenant_id"), table_name="cases")
    op.drop_index("ix_cases_stage_due", table_name="cases")
    op.drop_index(op.f("ix_cases_primary_person_id"), table_name="cases")
    op.drop_index("ix_cases_open_due", table_name="cases", postgresql_where="stage <> 'closed'")
    op.drop_index("ix_cases_assignee_due", table_name="cases")
    op.drop_table("cases")
    op.drop_index(
        "uq_persons_resident_id_hash",
        table_name="persons",
        postgresql_where="resident_id_hash IS NOT NULL AND status <> 'merged'",
    )
    op.drop_index("ix_persons_unit", table_name="persons", postgresql_ops={"org_unit_code": "text_pattern_ops"})
    op.drop_index(op.f("ix_persons_tenant_id"), table_name="persons")
    op.drop_index(
        "ix_persons_pinyin_trgm",
        table_name="persons",
        postgresql_using="gin",
        postgresql_ops={"name_pinyin": "gin_trgm_ops"},
    )
    op.drop_index("ix_persons_phone_hash", table_name="persons")
    op.drop_index(
        "ix_persons_name_trgm", table_name="persons", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
    )
    op.drop_table("persons")
    op.drop_index(op.f("ix_case_type_configs_tenant_id"), table_name="case_type_configs")
    op.drop_table("case_type_configs")
    op.drop_table("case_counters")
    for enum_type in ENUM_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {enum_type}")
