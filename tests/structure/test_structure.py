"""The structure rules of docs/development.md ("Structure the tests enforce"), each checked over the syntax trees
of backend/, frontend/ and workflows/. Each rule fails on one bad line; `tests/structure/test_rules_bite.py`
shows it by feeding each check a deliberately bad module."""

from __future__ import annotations

from tests.structure import codebase, layers

MAX_MODULE_LINES = 600

# Query-building outside repositories: the db layer's own session settings are the one place allowed.
QUERY_HOMES = ("backend/db/",)


def _listed(found: object) -> str:
    return "\n".join(map(str, sorted(found)))  # type: ignore[call-overload]


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
    assert not violations, (
        "select()/text()/insert()/update()/delete() outside a repository.py: move the query into the domain's "
        f"repository (built on backend/db/repository.py):\n{_listed(violations.items())}"
    )


def test_no_subtree_filter_by_prefix_match() -> None:
    found = {
        f"{module.relative}:{line}"
        for module in codebase.modules().values()
        for line in codebase.prefix_subtree_filters(module)
    }
    assert not found, (
        f"org subtrees are filtered with backend/db/scoping.py (leakproof ranges), never startswith/LIKE:\n"
        f"{_listed(found)}"
    )


# The one module that builds LIKE patterns, each typed character matching itself.
LIKE_HOME = "backend/db/search.py"


def test_like_patterns_are_built_in_one_place() -> None:
    found = {
        f"{module.relative}:{line}"
        for module in codebase.modules().values()
        if module.relative != LIKE_HOME
        for line in codebase.like_patterns(module)
    }
    assert not found, (
        f"a LIKE pattern built by hand: use {LIKE_HOME} (contains, begins_with), where %, _ and \\ match "
        f"themselves:\n{_listed(found)}"
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
    assert not found, f"imports running up the layers (tests/structure/layers.py):\n{_listed(found.items())}"


def test_no_import_cycles() -> None:
    cycles = codebase.import_cycles()
    assert not cycles, f"modules importing each other:\n{_listed(cycles)}"


def test_modules_stay_readable() -> None:
    large = {
        f"{module.relative} ({module.lines} lines)"
        for module in codebase.modules().values()
        if module.lines > MAX_MODULE_LINES
    }
    assert not large, f"modules over {MAX_MODULE_LINES} lines: split them along their seams:\n{_listed(large)}"
