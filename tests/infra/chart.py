"""Reading the Helm chart without Helm: values, the values schema, and templates with their actions blanked.

Helm is not installed where the tests run (and nothing may download it), so the tests check what can be
checked from the files: the values against values.schema.json (with jsonschema, the same draft Helm uses),
every `.Values` path a template reads against values.yaml, and each template's YAML skeleton with every
`{{ ... }}` action replaced by a placeholder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from backend.config import PROJECT_ROOT

CHART = PROJECT_ROOT / "infra" / "helm" / "liuguan"
TEMPLATES = CHART / "templates"
PLACEHOLDER = "TEMPLATED"

_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)
# An action may hold string literals with braces (a Prometheus template written as "{{ $labels.kind }}").
_ACTION = re.compile(r'\{\{(?:"[^"]*"|[^"])*?\}\}')
_ONLY_ACTIONS = re.compile(r'^\s*(\{\{(?:"[^"]*"|[^"])*?\}\}\s*)+$')
_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_ALIAS = re.compile(r"(\$[A-Za-z_]+)\s*:=\s*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def values() -> dict[str, Any]:
    return load_yaml(CHART / "values.yaml")


def schema() -> dict[str, Any]:
    return json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of a values file over values.yaml: maps merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def schema_errors(candidate: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema())
    return sorted(f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(candidate))


def template_sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.iterdir()) if path.is_file()}


def values_paths(source: str) -> set[tuple[str, ...]]:
    """Every `.Values.a.b` a template reads, with `$x := .Values.a` aliases followed (`$x.b` is a.b)."""
    source = _COMMENT.sub("", source)
    paths = {tuple(match.group(1).strip(".").split(".")) for match in _VALUES_PATH.finditer(source)}
    for alias, target in _ALIAS.findall(source):
        prefix = tuple(target.strip(".").split("."))
        for match in re.finditer(re.escape(alias) + r"((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", source):
            paths.add(prefix + tuple(match.group(1).strip(".").split(".")))
    return paths


def skeleton(source: str) -> list[dict[str, Any]]:
    """The template's YAML documents with control lines dropped and every other action a placeholder."""
    lines = []
    for line in _COMMENT.sub("", source).splitlines():
        if _ONLY_ACTIONS.match(line):
            continue
        lines.append(_ACTION.sub(PLACEHOLDER, line))
    return [document for document in yaml.safe_load_all("\n".join(lines)) if document]


def documents() -> dict[str, list[dict[str, Any]]]:
    """Each manifest template's skeleton documents, by file name."""
    return {name: skeleton(text) for name, text in template_sources().items() if name.endswith(".yaml")}


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for docs in documents().values() for doc in docs if doc.get("kind") == kind]


def named(kind: str, suffix: str) -> dict[str, Any]:
    """The one object of `kind` whose templated name ends with `suffix` (e.g. "-api")."""
    found = [doc for doc in by_kind(kind) if str(doc["metadata"]["name"]).endswith(suffix)]
    assert len(found) == 1, (kind, suffix, found)
    return found[0]
