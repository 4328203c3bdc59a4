"""The layer table: which module may import which.

Layers point one way: pages and routes → services → repositories → the base repository → the audit log and
authorization decisions → the foundation (config, core, db, models). Workflows: the outbox relay → workflows →
activities → services. A module may import its own layer or any layer below it; everything else is an upward
import. On top of the layers, the foundation domains that every other domain builds on (tenants, the org tree,
the calendar, identity, clients, the audit log) import no casework domain, and authorization decisions import no
identity, client or tenant code (authentication lives in backend/auth/).
"""

from __future__ import annotations

import re

# (layer, rank, pattern on the dotted module name); the first row that matches wins, so specific rows come first.
LAYER_TABLE: tuple[tuple[str, int, str], ...] = (
    ("app", 90, r"backend\.(main|api|cli)|backend\.(devservices|demo)(\..*)?|workflows\.(worker|relay)"),
    ("outbox relay", 80, r"workflows\.(outbox_handlers|outbox|polling)|workflows\.[a-z_]+\.(runner|relay)"),
    ("pages", 70, r"frontend(\..*)?"),
    ("routes", 60, r"backend\.[a-z_]+\.(endpoints|auth)|backend\.auth(\..*)?|backend\.authz\.dependencies"),
    ("routes", 60, r"backend\.health(\..*)?"),
    ("domain vocabulary", 30, r"workflows\.([a-z_]+\.)?(types|task_queues|rules)"),
    ("workflows", 45, r"workflows\.[a-z_]+\.workflows"),
    ("activities", 55, r"workflows(\.[a-z_]+)*"),
    ("foundation", 0, r"backend|backend\.(config|core|models)(\..*)?"),
    ("base repository", 25, r"backend\.db\.repository|backend\.authz\.service"),
    ("foundation", 0, r"backend\.db(\..*)?"),
    ("audit log", 20, r"backend\.audit\.(chain|repository|service)"),
    ("authorization decisions", 15, r"backend\.authz\.(principal|vocabulary)"),
    ("repositories", 40, r"backend\.[a-z_]+\.repository"),
    # Pure definitions a schema may validate with: no session, no service.
    (
        "domain vocabulary",
        30,
        r"backend\.[a-z_]+\.(errors|schemas|types|rules|workdays|resident_id|identifiers|names|divisions)",
    ),
    # Notification delivery, a subpackage of notifications (issue #19).
    ("routes", 60, r"backend\.notifications\.delivery\.endpoints"),
    ("repositories", 40, r"backend\.notifications\.delivery\.repository"),
    ("domain vocabulary", 30, r"backend\.notifications\.delivery\.(schemas|channels)"),
    ("services", 50, r"backend\.[a-z_]+(\.[a-z_]+)*"),
)

FOUNDATION_DOMAINS = frozenset({"tenants", "org", "calendar", "identity", "clients", "audit", "authz", "breakglass"})
CASEWORK_DOMAINS = frozenset(
    {
        "persons",
        "certificates",
        "documents",
        "agreements",
        "cases",
        "case_types",
        "verification",
        "intake",
        "registers",
        "followups",
        "reports",
        "notifications",
        "todo",
        # The accountable procedures (issue #22).
        "county_settings",
        "rewards",
        "complaints",
        "info_queries",
        "data_review",
        "entrustments",
        "archive",
    }
)
DECISION_FORBIDDEN = frozenset({"identity", "clients", "tenants", "auth"})


def layer_of(module: str) -> tuple[str, int]:
    """The layer of a module and its rank."""
    for layer, rank, pattern in LAYER_TABLE:
        if re.fullmatch(pattern, module):
            return layer, rank
    raise LookupError(f"{module} is in no layer: add it to tests/structure/layers.py")


NOT_DOMAINS = frozenset({"config", "core", "db", "models"})


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "backend" or len(parts) < 2 or parts[1] in NOT_DOMAINS:
        return None
    return parts[1]


def upward(source: str, target: str) -> str | None:
    """Why importing `target` from `source` runs up the layers, or None when it does not."""
    source_layer, source_rank = layer_of(source)
    target_layer, target_rank = layer_of(target)
    if target_rank > source_rank:
        return f"{source_layer} imports {target_layer}"
    source_domain, target_domain = _domain(source), _domain(target)
    if source_domain in FOUNDATION_DOMAINS and target_domain in CASEWORK_DOMAINS:
        return f"foundation domain {source_domain} imports casework domain {target_domain}"
    if source_domain == "authz" and target_domain in DECISION_FORBIDDEN:
        return f"authorization decisions import {target_domain}"
    if source.startswith("backend.core") and target_domain is not None:
        return f"core imports the domain {target_domain}"
    return None
