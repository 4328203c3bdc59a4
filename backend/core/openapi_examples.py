"""An example for every JSON request body of the OpenAPI document, built from its schema: a field's own
`examples` when the schema has them, else a plausible value by the field's name (an ID number with a valid check
digit, a division code, a phone number), else one by its type and format. Required fields only, so the example
is the smallest request that goes through validation; multipart uploads (binary files) get none."""

from __future__ import annotations

from typing import Any

# Values by field name, valid for the API's checks (this ID number's check digit is right).
BY_NAME: dict[str, Any] = {
    "resident_id": "11010519491231002X",
    "spouse_resident_id": "11010519491231002X",
    "phone": "13812345678",
    "tenant_code": "330106",
    "county_code": "330106",
    "code": "330106001",
    "division_code": "330106001001",
    "org_unit_code": "330106001001",
    "registration_division_code": "330106",
    "residence_division_code": "330106001001",
    "name": "李梅",
    "username": "officer",
    "password": "correct-horse-battery-staple",
    "reason": "核实住址 / address checked",
    "version": 1,
    "transaction_id": "PSB-2026-000123",
    "client_id": "330106-jK9BCrLGVzPr9JFi",
}
_BY_FORMAT = {
    "date": "2026-03-01",
    "date-time": "2026-03-01T09:00:00+08:00",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "officer@example.gov.cn",
    "uri": "https://dept.example.gov.cn/callback",
}
_MAX_DEPTH = 8


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _has_binary(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> bool:
    schema = _resolve(schema, schemas)
    if schema.get("format") == "binary" or schema.get("contentMediaType") == "application/octet-stream":
        return True
    if depth > _MAX_DEPTH:
        return False
    children = [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("allOf", [])]
    if "items" in schema:
        children.append(schema["items"])
    return any(_has_binary(child, schemas, depth + 1) for child in children)


def _value(schema: dict[str, Any], schemas: dict[str, Any], name: str | None, depth: int) -> Any:
    schema = _resolve(schema, schemas)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if name in BY_NAME:
        return BY_NAME[name]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = [option for option in schema.get(key, []) if _resolve(option, schemas).get("type") != "null"]
        if options:
            return _value(options[0], schemas, name, depth)
    if schema.get("allOf"):
        return _value(schema["allOf"][0], schemas, name, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > _MAX_DEPTH:
            return {}
        properties = schema.get("properties", {})
        return {
            key: _value(properties[key], schemas, key, depth + 1)
            for key in schema.get("required", [])
            if key in properties
        }
    if kind == "array":
        if depth > _MAX_DEPTH:
            return []
        return [_value(schema.get("items", {}), schemas, name, depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") in _BY_FORMAT:
            return _BY_FORMAT[schema["format"]]
        return "示例 / example"
    return None


def request_example(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The example of a request body with this schema, or None for a file upload."""
    if _has_binary(schema, schemas):
        return None
    return _value(schema, schemas, None, 0)
