"""The project's own source read as syntax trees: its modules, their imports and their SQL statement calls.

Shared by the structure tests; nothing here imports the code it reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("backend", "frontend", "workflows")
SQL_STATEMENT_BUILDERS = frozenset({"select", "text", "insert", "update", "delete"})


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: dict[str, int] = field(default_factory=dict)  # imported project module -> first line

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def lines(self) -> int:
        return len(self.path.read_text(encoding="utf-8").splitlines())


def parse(name: str, source: str) -> Module:
    """A module from source text (the rule tests feed the checks deliberately bad lines this way)."""
    path = ROOT / (name.replace(".", "/") + ".py")
    return Module(name, path, ast.parse(source))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Module]:
    """Every module of backend/, frontend/ and workflows/ outside migrations, with the project modules each one
    imports (at module level or inside functions alike: a lazy import is still a dependency)."""
    found: dict[str, Module] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "node_modules" in path.parts:
                continue
            name = _module_name(path)
            found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    for module in found.values():
        package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
        for node in ast.walk(module.tree):
            for target in _targets(node, package, found):
                if target != module.name:
                    module.imports.setdefault(target, node.lineno)  # type: ignore[attr-defined]
    return found


def _targets(node: ast.AST, package: str, known: dict[str, Module]) -> Iterator[str]:
    """The project modules an import statement loads: `from a.b import c` is the module a.b.c when there is
    one, else a.b (c is a name in it)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        names = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
    else:
        return
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            yield name


def sql_statement_calls(module: Module) -> list[int]:
    """Lines where the module calls SQLAlchemy's select/text/insert/update/delete."""
    imported: set[str] = set()
    aliases: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            imported |= {alias.asname or alias.name for alias in node.names if alias.name in SQL_STATEMENT_BUILDERS}
        elif isinstance(node, ast.Import):
            aliases |= {alias.asname or alias.name for alias in node.names if alias.name.startswith("sqlalchemy")}
    lines = []
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in imported:
            lines.append(node.lineno)
        elif (
            isinstance(function, ast.Attribute)
            and function.attr in SQL_STATEMENT_BUILDERS
            and isinstance(function.value, ast.Name)
            and function.value.id in aliases
        ):
            lines.append(node.lineno)
    return sorted(lines)


def prefix_subtree_filters(module: Module) -> list[int]:
    """Lines filtering an org code column by prefix in SQL (`Model.org_unit_code.startswith(...)`, `.like(...)`)
    or in SQL text (`... code LIKE ...`): under row-level security neither can use the code index."""
    lines = []
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"startswith", "like", "ilike", "contains"}
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr.endswith("code")
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id[:1].isupper()
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "code like" in node.value.lower():
            lines.append(node.lineno)
    return sorted(lines)


LIKE_OPERATORS = frozenset({"like", "ilike", "notlike", "notilike"})
COLUMN_TEXT_MATCHES = frozenset({"contains", "startswith", "endswith", "icontains", "istartswith", "iendswith"})


def like_patterns(module: Module) -> list[int]:
    """Lines building a LIKE pattern by hand: `.like(`/`.ilike(` on anything (a string has no such method), and
    `Model.column.contains/startswith/endswith(` (SQLAlchemy's operators, whose escaping is opt-in)."""
    lines = []
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, target = node.func.attr, node.func.value
        on_column = (
            isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id[:1].isupper()
        )
        if method in LIKE_OPERATORS or (method in COLUMN_TEXT_MATCHES and on_column):
            lines.append(node.lineno)
    return sorted(lines)


def import_graph() -> dict[str, list[str]]:
    return {name: sorted(module.imports) for name, module in modules().items()}


def import_cycles(graph: dict[str, list[str]] | None = None) -> list[list[str]]:
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    graph = import_graph() if graph is None else graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return sorted(cycles)
