"""Village and township service work: check rounds and results (三查), follow-up visits (随访), contraceptive
distribution points and stock movements (避孕药具发放), rental houses, employers and their occupants (以房管人),
clean-up campaigns with their villages and work lists (清理清查), free technical services and the county's own items
(免费技术服务), and the `signature` document kind.

`signature` is added to the `document_kind` type and stays on downgrade (PostgreSQL cannot drop an enum value;
no row uses it once the tables above are gone).

Revision ID: 0013_village_services
Revises: 0011_client_context
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0013_village_services"
down_revision: str | None = "0012_daily_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows are corrected by new rows or by their status, never deleted.
TABLES = (
    "check_rounds",
    "check_results",
    "followup_visits",
    "distribution_points",
    "stock_movements",
    "rental_houses",
    "employers",
    "occupancies",
    "campaigns",
    "campaign_units",
    "campaign_items",
    "free_service_items",
    "free_services",
)
ENUM_TYPES = (
    "check_round_status",
    "pregnancy_finding",
    "iud_finding",
    "gynaecology_finding",
    "check_place",
    "visit_method",
    "distribution_point_kind",
    "contraceptive_product",
    "stock_movement_kind",
    "business_type",
    "occupancy_kind",
    "campaign_kind",
    "campaign_status",
    "campaign_finding",
    "cost_bearer",
)


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
    ]


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name)


def _contraception_measure() -> sa.Enum:
    # The type exists already (persons); reuse it.
    from sqlalchemy.dialects import postgresql

    return postgresql.ENUM(name="contraception_measure", create_type=False)


def _pregnancy_finding() -> sa.Enum:
    from sqlalchemy.dialects import postgresql

    return postgresql.ENUM(name="pregnancy_finding", create_type=False)


def upgrade() -> None:
    op.create_table(
        "check_rounds",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("key_subject", sa.Boolean(), nullable=False),
        sa.Column("status", _enum("check_round_status", "due", "done", "missed", "void"), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=True),
        sa.UniqueConstraint("tenant_id", "person_id", "period", name="uq_check_rounds_tenant_id_person_id_period"),
    )
    op.create_index("ix_check_rounds_tenant_id", "check_rounds", ["tenant_id"])
    op.create_index("ix_check_rounds_window", "check_rounds", ["tenant_id", "window_end", "status"])
    op.create_index(
        "ix_check_rounds_unit",
        "check_rounds",
        ["tenant_id", "org_unit_code", "window_end"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_index("ix_check_rounds_person", "check_rounds", ["tenant_id", "person_id", "window_end"])

    op.create_table(
        "check_results",
        *_common(),
        sa.Column("round_id", sa.Uuid(), sa.ForeignKey("check_rounds.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("pregnancy", _enum("pregnancy_finding", "not_pregnant", "pregnant", "not_checked"), nullable=False),
        sa.Column("iud", _enum("iud_finding", "in_place", "displaced", "absent", "not_applicable"), nullable=False),
        sa.Column("gynaecology", _enum("gynaecology_finding", "normal", "findings", "not_checked"), nullable=False),
        sa.Column("gynaecology_notes", sa.Text(), nullable=True),
        sa.Column("provider_name", sa.String(100), nullable=False),
        sa.Column("place", _enum("check_place", "local", "elsewhere"), nullable=False),
        sa.Column("place_name", sa.String(100), nullable=True),
        sa.Column("proof_document_id", sa.Uuid(), sa.ForeignKey("documents.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(64), nullable=False),
        sa.Column("recorded_by_label", sa.String(100), nullable=False),
        sa.UniqueConstraint("round_id", name="uq_check_results_round_id"),
    )
    op.create_index("ix_check_results_tenant_id", "check_results", ["tenant_id"])
    op.create_index("ix_check_results_person_id", "check_results", ["person_id"])

    op.create_table(
        "followup_visits",
        *_common(),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("method", _enum("visit_method", "home", "phone", "service_room", "workplace"), nullable=False),
        sa.Column("contraception_measure", _contraception_measure(), nullable=True),
        sa.Column("procedure_effective", sa.Boolean(), nullable=True),
        sa.Column("pregnancy", _pregnancy_finding(), nullable=False),
        sa.Column("side_effects", sa.Text(), nullable=True),
        sa.Column("advice", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(64), nullable=False),
        sa.Column("recorded_by_label", sa.String(100), nullable=False),
        sa.UniqueConstraint("case_id", name="uq_followup_visits_case_id"),
    )
    op.create_index("ix_followup_visits_tenant_id", "followup_visits", ["tenant_id"])
    op.create_index("ix_followup_visits_person_id", "followup_visits", ["person_id"])
    op.create_index(
        "ix_followup_visits_unit",
        "followup_visits",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )

    op.execute("ALTER TYPE document_kind ADD VALUE IF NOT EXISTS 'signature'")
    op.create_table(
        "distribution_points",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "kind",
            _enum("distribution_point_kind", "village_room", "market", "enterprise", "self_service_box"),
            nullable=False,
        ),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "org_unit_code", "name", name="uq_distribution_points_tenant_id_org_unit_code_name"
        ),
    )
    op.create_index("ix_distribution_points_tenant_id", "distribution_points", ["tenant_id"])
    op.create_table(
        "stock_movements",
        *_common(),
        sa.Column("point_id", sa.Uuid(), sa.ForeignKey("distribution_points.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column(
            "product",
            _enum("contraceptive_product", "condom", "oral_pill", "emergency_pill", "injection", "topical", "other"),
            nullable=False,
        ),
        sa.Column("kind", _enum("stock_movement_kind", "received", "issued"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True),
        sa.Column(
            "signature_document_id", sa.Uuid(), sa.ForeignKey("documents.id", ondelete="RESTRICT"), nullable=True
        ),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(64), nullable=False),
        sa.Column("recorded_by_label", sa.String(100), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_stock_movements_quantity_positive"),
        sa.CheckConstraint("balance_after >= 0", name="ck_stock_movements_balance_not_negative"),
    )
    op.create_index("ix_stock_movements_tenant_id", "stock_movements", ["tenant_id"])
    op.create_index("ix_stock_movements_person_id", "stock_movements", ["person_id"])
    op.create_index("ix_stock_movements_point", "stock_movements", ["tenant_id", "point_id", "product", "moved_on"])
    op.create_index(
        "ix_stock_movements_unit",
        "stock_movements",
        ["tenant_id", "org_unit_code", "moved_on"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )

    _housing()
    _campaigns()
    _free_services()

    for table in TABLES:
        helpers.enable_tenant_rls(table)
        helpers.grant_app(table, "SELECT, INSERT, UPDATE")


def _housing() -> None:
    op.create_table(
        "rental_houses",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("door_plate", sa.String(40), nullable=True),
        sa.Column("owner_name", sa.String(50), nullable=False),
        sa.Column("owner_person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True),
        sa.Column(
            "business_type",
            _enum("business_type", "residential", "shop", "factory_dormitory", "mixed", "other"),
            nullable=False,
        ),
        sa.Column("agreement_id", sa.Uuid(), sa.ForeignKey("agreements.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("last_visited_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_rental_houses_tenant_id", "rental_houses", ["tenant_id"])
    op.create_index(
        "uq_rental_houses_door_plate",
        "rental_houses",
        ["tenant_id", "door_plate"],
        unique=True,
        postgresql_where=sa.text("door_plate IS NOT NULL"),
    )
    op.create_index(
        "ix_rental_houses_unit",
        "rental_houses",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "employers",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("legal_representative", sa.String(50), nullable=True),
        sa.Column("industry", sa.String(50), nullable=True),
        sa.Column("agreement_id", sa.Uuid(), sa.ForeignKey("agreements.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_employers_tenant_id", "employers", ["tenant_id"])
    op.create_index(
        "ix_employers_unit",
        "employers",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "occupancies",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("occupancy_kind", "tenant", "employee"), nullable=False),
        sa.Column("house_id", sa.Uuid(), sa.ForeignKey("rental_houses.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("employer_id", sa.Uuid(), sa.ForeignKey("employers.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'tenant' AND house_id IS NOT NULL AND employer_id IS NULL) OR "
            "(kind = 'employee' AND employer_id IS NOT NULL AND house_id IS NULL)",
            name="ck_occupancies_one_place",
        ),
        sa.CheckConstraint("moved_out_on IS NULL OR moved_out_on >= moved_in_on", name="ck_occupancies_out_after_in"),
    )
    op.create_index("ix_occupancies_tenant_id", "occupancies", ["tenant_id"])
    op.create_index("ix_occupancies_person_id", "occupancies", ["person_id"])
    op.create_index(
        "uq_occupancies_one_house",
        "occupancies",
        ["tenant_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'tenant' AND moved_out_on IS NULL"),
    )
    op.create_index(
        "uq_occupancies_one_job_per_employer",
        "occupancies",
        ["tenant_id", "person_id", "employer_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'employee' AND moved_out_on IS NULL"),
    )
    op.create_index("ix_occupancies_house", "occupancies", ["tenant_id", "house_id", "moved_in_on"])
    op.create_index("ix_occupancies_employer", "occupancies", ["tenant_id", "employer_id", "moved_in_on"])
    op.create_index(
        "ix_occupancies_unit",
        "occupancies",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )


def _campaigns() -> None:
    op.create_table(
        "campaigns",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", _enum("campaign_kind", "monthly", "quarterly", "spring_festival", "special"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", _enum("campaign_status", "active", "closed"), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_campaigns_tenant_id", "campaigns", ["tenant_id"])
    op.create_index(
        "ix_campaigns_unit",
        "campaigns",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "campaign_units",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), sa.ForeignKey("campaigns.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.UniqueConstraint("campaign_id", "org_unit_code", name="uq_campaign_units_campaign_id_org_unit_code"),
    )
    op.create_index("ix_campaign_units_tenant_id", "campaign_units", ["tenant_id"])
    op.create_index(
        "ix_campaign_units_unit",
        "campaign_units",
        ["tenant_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "campaign_items",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), sa.ForeignKey("campaigns.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("house_id", sa.Uuid(), sa.ForeignKey("rental_houses.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "finding",
            _enum("campaign_finding", "present", "left", "moved_within_county", "unknown", "new_arrival"),
            nullable=True,
        ),
        sa.Column("found_on", sa.Date(), nullable=True),
        sa.Column("moved_to_unit_code", sa.String(12), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_label", sa.String(100), nullable=True),
        sa.Column("notice_correlation_id", sa.String(60), nullable=True),
    )
    op.create_index("ix_campaign_items_tenant_id", "campaign_items", ["tenant_id"])
    op.create_index("ix_campaign_items_person_id", "campaign_items", ["person_id"])
    op.create_index(
        "uq_campaign_items_person",
        "campaign_items",
        ["campaign_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("person_id IS NOT NULL"),
    )
    op.create_index(
        "uq_campaign_items_house",
        "campaign_items",
        ["campaign_id", "house_id"],
        unique=True,
        postgresql_where=sa.text("house_id IS NOT NULL"),
    )
    op.create_index(
        "ix_campaign_items_unit",
        "campaign_items",
        ["tenant_id", "campaign_id", "org_unit_code"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )


def _free_services() -> None:
    op.create_table(
        "free_service_items",
        *_common(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="uq_free_service_items_tenant_id_code"),
    )
    op.create_index("ix_free_service_items_tenant_id", "free_service_items", ["tenant_id"])
    op.create_table(
        "free_services",
        *_common(),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("provider_name", sa.String(100), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column(
            "cost_bearer",
            _enum("cost_bearer", "residence_county", "registration_place", "provincial_settlement", "other"),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(10, 2), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(64), nullable=False),
        sa.Column("recorded_by_label", sa.String(100), nullable=False),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="ck_free_services_amount_not_negative"),
    )
    op.create_index("ix_free_services_tenant_id", "free_services", ["tenant_id"])
    op.create_index("ix_free_services_person_id", "free_services", ["person_id"])
    op.create_index(
        "ix_free_services_unit",
        "free_services",
        ["tenant_id", "org_unit_code", "served_on"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    for enum_type in ENUM_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {enum_type}")
