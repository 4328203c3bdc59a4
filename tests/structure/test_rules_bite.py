"""Each structure check fails on a deliberately bad line: a check that cannot fail would guard nothing."""

from __future__ import annotations

from tests.structure import codebase, layers


def test_a_select_in_a_page_is_found() -> None:
    page = codebase.parse(
        "frontend.pages.example",
        "from sqlalchemy import select\nfrom backend.models import Case\n\n\nstatement = select(Case)\n",
    )
    assert codebase.sql_statement_calls(page) == [5]


def test_raw_sql_text_through_a_module_alias_is_found() -> None:
    service = codebase.parse("backend.example.service", "import sqlalchemy as sa\n\nquery = sa.text('SELECT 1')\n")
    assert codebase.sql_statement_calls(service) == [3]


def test_a_method_named_like_a_builder_is_not_a_query() -> None:
    endpoint = codebase.parse(
        "backend.example.endpoints", "router = object()\nrouter.delete('/x')\nd = {}\nd.update()\n"
    )
    assert codebase.sql_statement_calls(endpoint) == []


def test_a_prefix_match_on_a_code_column_is_found() -> None:
    repository = codebase.parse(
        "backend.example.repository",
        "from backend.models import Case\n\nc = Case.org_unit_code.startswith('330106')\n"
        "t = \"SELECT 1 FROM cases WHERE org_unit_code LIKE '3301%'\"\n",
    )
    assert codebase.prefix_subtree_filters(repository) == [3, 4]


def test_a_like_pattern_built_by_hand_is_found() -> None:
    repository = codebase.parse(
        "backend.example.repository",
        "from backend.models import Case, Person\n\nq = '%'\n"
        "a = Person.name.ilike(f'%{q}%')\nb = Case.subject_name.contains(q)\nc = q.startswith('x')\n",
    )
    assert codebase.like_patterns(repository) == [4, 5]


def test_a_python_prefix_check_on_a_string_is_not_a_sql_filter() -> None:
    principal = codebase.parse("backend.authz.example", "unit_code = '330106'\nok = unit_code.startswith('3301')\n")
    assert codebase.prefix_subtree_filters(principal) == []


def test_upward_imports_are_named() -> None:
    assert layers.upward("backend.core.error_handlers", "frontend.rendering") == "foundation imports pages"
    assert layers.upward("backend.cases.repository", "backend.cases.service") == "repositories imports services"
    assert layers.upward("backend.cases.service", "backend.cases.endpoints") == "services imports routes"
    assert layers.upward("backend.calendar.service", "backend.cases.service") == (
        "foundation domain calendar imports casework domain cases"
    )
    assert layers.upward("backend.authz.principal", "backend.identity.service") is not None
    assert layers.upward("workflows.cases.workflows", "backend.cases.service") == "workflows imports services"


def test_downward_imports_pass() -> None:
    assert layers.upward("frontend.pages.cases", "backend.cases.service") is None
    assert layers.upward("backend.cases.endpoints", "backend.cases.service") is None
    assert layers.upward("backend.cases.service", "backend.cases.repository") is None
    assert layers.upward("backend.cases.repository", "backend.db.repository") is None
    assert layers.upward("workflows.cases.activities", "backend.cases.service") is None


def test_a_cycle_of_three_modules_is_found() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert codebase.import_cycles(graph) == [["a", "b", "c"]]
