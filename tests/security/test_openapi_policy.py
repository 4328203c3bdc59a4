"""The input policy, read from the OpenAPI document (backend/core/input.py): every value a client sends has a rule.

Walks every operation's parameters and request body and fails on:
- a string without `maxLength` and an `x-input-policy` of the shared types (text, multiline, code), unless it is
  an enum, a uuid, a date or a file;
- a date or date-time that does not say whether it may lie in the future (`x-past-only`), or a date that
  describes something that happened (a birth, a signature, an arrival...) but accepts the future;
- a free-form JSON object without `x-input-policy: json-object` and its `x-max-bytes`;
- an array without `maxItems`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from backend.core.input import MAX_BYTES_KEY, PAST_ONLY_KEY, POLICY_KEY

TEXT_POLICIES = {"text", "multiline", "code"}
# Parsed into a value that cannot carry text: a uuid, a file's bytes, a time of day (quiet hours).
NON_TEXT_FORMATS = {"uuid", "binary", "time"}
DATE_FORMATS = {"date", "date-time"}
# Names of dates that record something that already happened: they must refuse the future.
HAPPENED = re.compile(
    r"(^|_)(birth|flow|contraception|signed|departed|inspected|issue|registered|cancelled|issued|moved|received|"
    r"sent|arrived|at)(_date|_on|_at)?$"
)
MAY_LIE_AHEAD = {"valid_until", "valid_from", "date", "period_from", "period_to", "period_start", "period_end", "as_of"}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _walk(document: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str]) -> Iterator[str]:
    """Every problem of `schema` (at `where`), descending into objects, arrays and unions."""
    ref = schema.get("$ref")
    if ref in seen:
        return
    if ref is not None:
        seen = seen | {ref}
    schema = _resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for variant in schema.get(key, []):
            yield from _walk(document, variant, where, seen)
    kind = schema.get("type")
    name = where.rsplit(".", 1)[-1]
    if kind == "string" and "enum" not in schema and "const" not in schema:
        fmt = schema.get("format")
        if fmt in DATE_FORMATS:
            if PAST_ONLY_KEY not in schema:
                yield f"{where}: a {fmt} without {PAST_ONLY_KEY} (PastDate/AnyDate in backend/core/input.py)"
            elif HAPPENED.search(name) and name not in MAY_LIE_AHEAD and schema[PAST_ONLY_KEY] is not True:
                yield f"{where}: records something that happened but accepts the future"
        elif "contentMediaType" in schema:
            pass  # an uploaded file: its bytes are checked by the upload's own rules (backend/documents/sniffing.py)
        elif fmt not in NON_TEXT_FORMATS and (schema.get(POLICY_KEY) not in TEXT_POLICIES or "maxLength" not in schema):
            yield f"{where}: a string without the text policy (Text/MultilineText/Code in backend/core/input.py)"
    elif kind == "object":
        for prop, sub in schema.get("properties", {}).items():
            yield from _walk(document, sub, f"{where}.{prop}", seen)
        extra = schema.get("additionalProperties")
        if extra is True or (isinstance(extra, dict) and not extra):
            if schema.get(POLICY_KEY) != "json-object" or MAX_BYTES_KEY not in schema:
                yield f"{where}: a free-form object without a size limit (JsonObject in backend/core/input.py)"
        elif isinstance(extra, dict):
            yield from _walk(document, extra, f"{where}.*", seen)
    elif kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: an array without maxItems"
        if isinstance(schema.get("items"), dict):
            yield from _walk(document, schema["items"], f"{where}[]", seen)


def policy_problems(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                problems.extend(
                    _walk(
                        document,
                        parameter.get("schema", {}),
                        f"{route} {parameter['in']}.{parameter['name']}",
                        frozenset(),
                    )
                )
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if "schema" in content:
                    problems.extend(_walk(document, content["schema"], f"{route} body({media})", frozenset()))
    return problems


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_every_input_in_the_openapi_document_follows_the_input_policy(document: dict[str, Any]) -> None:
    problems = policy_problems(document)
    assert not problems, "inputs without a rule:\n" + "\n".join(problems)


def test_the_walker_finds_a_string_without_a_rule() -> None:
    bad = {
        "components": {"schemas": {}},
        "paths": {
            "/x": {
                "post": {
                    "parameters": [{"in": "query", "name": "q", "schema": {"type": "string", "maxLength": 5}}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "signed_on": {"type": "string", "format": "date", PAST_ONLY_KEY: False},
                                        "details": {"type": "object", "additionalProperties": True},
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        }
                    },
                }
            }
        },
    }
    problems = policy_problems(bad)
    assert [problem.split(":")[0] for problem in problems] == [
        "POST /x query.q",
        "POST /x body(application/json).signed_on",
        "POST /x body(application/json).details",
        "POST /x body(application/json).tags",
        "POST /x body(application/json).tags[]",
    ]
