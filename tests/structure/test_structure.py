"""The structure rules of docs/development.md ("Adding a domain module"), each checked over the syntax trees of
backend/, frontend/ and workflows/. Each rule fails on one bad line; `tests/structure/test_rules_bite.py` shows
it by feeding each check a deliberately bad module.

`PENDING_*` lists what the house still has to move (issue #15); an entry that no longer applies fails too, so
the lists only shrink.
"""

from __future__ import annotations

from tests.structure import codebase, layers

MAX_MODULE_LINES = 600

# Query-building outside repositories: the db layer's own session settings are the one place allowed.
QUERY_HOMES = ("backend/db/",)

PENDING_QUERIES: frozenset[str] = frozenset(
    {
        "backend/calendar/service.py",
        "backend/clients/service.py",
        "backend/core/outbox.py",
        "backend/health/endpoints.py",
        "backend/intake/service.py",
        "backend/verification/deadlines.py",
        "backend/verification/gating.py",
    }
)
PENDING_UPWARD: frozenset[tuple[str, str]] = frozenset(
    {
        ("backend/authz/dependencies.py", "backend.clients.service"),
        ("backend/authz/dependencies.py", "backend.identity.errors"),
        ("backend/authz/dependencies.py", "backend.identity.security"),
        ("backend/authz/dependencies.py", "backend.identity.service"),
        ("backend/authz/dependencies.py", "backend.tenants.repository"),
        ("backend/calendar/endpoints.py", "backend.cases.service"),
        ("backend/calendar/endpoints.py", "backend.verification.deadlines"),
        ("backend/calendar/publishing.py", "backend.cases.service"),
        ("backend/calendar/publishing.py", "backend.verification.deadlines"),
        ("backend/core/error_handlers.py", "frontend.rendering"),
        ("backend/core/outbox.py", "backend.tenants.service"),
        ("backend/core/temporal.py", "workflows.client"),
        ("backend/intake/transaction.py", "backend.authz.dependencies"),
    }
)
PENDING_CYCLES: frozenset[tuple[str, ...]] = frozenset()
PENDING_PREFIX_FILTERS: frozenset[str] = frozenset()
PENDING_LARGE: frozenset[str] = frozenset({"backend/persons/service.py", "backend/persons/importer.py"})


def _settled(found: set, pending: frozenset, what: str) -> None:  # type: ignore[type-arg]
    new = sorted(found - pending)
    gone = sorted(pending - found)
    assert not new, f"{what}:\n" + "\n".join(map(str, new))
    assert not gone, "fixed, so take these off the PENDING list in tests/structure/test_structure.py:\n" + "\n".join(
        map(str, gone)
    )


def query_violations() -> dict[str, list[int]]:
    return {
        module.relative: lines
        for module in codebase.modules().values()
        if module.path.name != "repository.py"
        and not module.relative.startswith(QUERY_HOMES)
        and (lines := codebase.sql_statement_calls(module))
    }


def upward_imports() -> dict[tuple[str, str], str]:
    found = {}
    for name, module in codebase.modules().items():
        for target in module.imports:
            if why := layers.upward(name, target):
                found[(module.relative, target)] = why
    return found


def test_queries_live_in_repositories() -> None:
    violations = query_violations()
    _settled(
        set(violations),
        PENDING_QUERIES,
        "select()/text()/insert()/update()/delete() outside a repository.py: move the query into the domain's "
        "repository (built on backend/db/repository.py)",
    )


def test_no_subtree_filter_by_prefix_match() -> None:
    found = {module.relative for module in codebase.modules().values() if codebase.prefix_subtree_filters(module)}
    _settled(
        found,
        PENDING_PREFIX_FILTERS,
        "org subtrees are filtered with backend/db/scoping.py (leakproof ranges), never startswith/LIKE",
    )


def test_every_module_sits_in_a_layer() -> None:
    unplaced = []
    for name in codebase.modules():
        try:
            layers.layer_of(name)
        except LookupError:
            unplaced.append(name)
    assert not unplaced, f"add these to the layer table in tests/structure/layers.py: {unplaced}"


def test_layers_point_one_way() -> None:
    found = upward_imports()
    _settled(
        set(found),
        PENDING_UPWARD,
        "imports running up the layers (tests/structure/layers.py)",
    )


def test_no_import_cycles() -> None:
    _settled({tuple(cycle) for cycle in codebase.import_cycles()}, PENDING_CYCLES, "modules importing each other")


def test_modules_stay_readable() -> None:
    large = {module.relative for module in codebase.modules().values() if module.lines > MAX_MODULE_LINES}
    _settled(large, PENDING_LARGE, f"modules over {MAX_MODULE_LINES} lines: split them along their seams")
