"""One input policy for every value a client sends: the shared annotated types every schema and form uses.

- **Text** (`Annotated[str, Text(max_length=...)]`): a maximum length always; no control characters: NUL and
  the rest of C0, DEL and C1 are refused with 422 at the field (PostgreSQL refuses NUL in text, and the others
  have no business in a name or a note). `MultilineText` allows tab, line feed and carriage return.
- **Codes** (`Code(pattern, max_length)`): identifiers with a fixed shape (division codes, usernames, numbers);
  the anchored pattern refuses control characters by itself. The usual ones are here: `UnitCode`, `CountyCode`.
- **JSON objects** (`Annotated[dict[str, Any], JsonObject(max_bytes=...)]`): free-form objects such as a case's
  `details` have a size limit (UTF-8 bytes of their JSON), a nesting limit, keys and strings under the text
  policy (tab and newlines allowed) and finite numbers only.
- **Amounts** (`Annotated[Decimal, Field(...), DecimalString(max_digits)]`): a decimal a client may send as a JSON
  number or as a string; the string is digits with at most one point (no exponent, no spaces), of bounded length.
- **Dates**: `PastDate` / `PastDateTime` for what already happened (a birth, a signature, a flow date, an
  arrival): the future is refused. `AnyDate` / `AnyDateTime` for dates that may lie ahead (validity, holidays,
  periods). Every date field says which it is.
- **Null**: `Omittable[T]` for a field an update may leave out but never set to null (a title, a priority):
  leaving it out keeps the value, an explicit `null` is refused with 422 instead of reaching a NOT NULL column.

The OpenAPI document states each rule, and `tests/security/test_openapi_policy.py` walks it: every string has
`maxLength` and `x-input-policy` (`text`, `multiline`, `code`), or is an enum, a uuid, a date or a file; every
JSON object of free form has `x-input-policy: json-object` and `x-max-bytes`; every date and date-time says
`x-past-only` (true: today or earlier; false: may lie ahead); an `Omittable` field is not nullable.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, TypeVar, cast

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from backend.core.clock import china_today, utc_now

# Everything but C0 controls, DEL and C1 controls; the multi-line form lets tab, LF and CR through.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
CONTROL_PATTERNS = frozenset({SINGLE_LINE_PATTERN, MULTILINE_PATTERN})
_MULTILINE = re.compile(MULTILINE_PATTERN)

# OpenAPI vendor extensions (documented in docs/api.md, "Input rules").
POLICY_KEY = "x-input-policy"
PAST_ONLY_KEY = "x-past-only"
MAX_BYTES_KEY = "x-max-bytes"

# The validation context's key for "today" (a batch of department notifications is one moment).
TODAY_CONTEXT_KEY = "today"
# A past-only moment may run this far ahead of the server's clock: the sender's clock is not ours.
CLOCK_SKEW = timedelta(minutes=5)

T = TypeVar("T")


CONTROL_CHARACTERS_MESSAGE = "不能包含控制字符 / control characters are not allowed"
# The error types of this module: their messages are already "中文 / English".
POLICY_ERROR_TYPES = frozenset(
    {
        "null_refused",
        "date_in_future",
        "json_too_large",
        "json_too_deep",
        "json_key",
        "finite_number",
        "control_characters",
    }
)


def policy_message(error: Mapping[str, Any]) -> str | None:
    """The bilingual message of a refusal by this policy (a Pydantic error dict), None for any other refusal."""
    if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") in CONTROL_PATTERNS:
        return CONTROL_CHARACTERS_MESSAGE
    if error.get("type") in POLICY_ERROR_TYPES:
        return str(error.get("msg"))
    return None


def refuses_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether the policy refuses this text (for checks outside a schema, such as a JSON object's strings)."""
    return re.fullmatch(MULTILINE_PATTERN if multiline else SINGLE_LINE_PATTERN, text) is None


@dataclass(frozen=True, slots=True)
class Text:
    """A string with a maximum length and no control characters (`multiline`: tab and newlines allowed).
    `verbatim` keeps leading and trailing spaces (a password is what was typed)."""

    max_length: int
    min_length: int = 0
    multiline: bool = False
    verbatim: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.str_schema(
            min_length=self.min_length or None,
            max_length=self.max_length,
            pattern=MULTILINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN,
            strip_whitespace=False if self.verbatim else None,
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        value[POLICY_KEY] = "multiline" if self.multiline else "text"
        return value


def json_schema_of(max_length: int, *, multiline: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of a text body declared by hand (`openapi_extra` of a text/csv upload)."""
    return {
        "type": "string",
        "maxLength": max_length,
        "pattern": MULTILINE_PATTERN if multiline else SINGLE_LINE_PATTERN,
        POLICY_KEY: "multiline" if multiline else "text",
    }


def MultilineText(max_length: int, min_length: int = 0) -> Text:
    """Text that may hold tab and line breaks (notes, questions, answers, reasons)."""
    return Text(max_length, min_length, multiline=True)


@dataclass(frozen=True, slots=True)
class Code:
    """A string of a fixed shape: an anchored pattern (which cannot match a control character) and a length."""

    pattern: str
    max_length: int

    def __post_init__(self) -> None:
        if not (self.pattern.startswith("^") and self.pattern.endswith("$")) or re.search(self.pattern, "\x00"):
            raise ValueError(f"a code pattern is anchored and refuses control characters: {self.pattern}")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.str_schema(max_length=self.max_length, pattern=self.pattern)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        value[POLICY_KEY] = "code"
        return value


UNIT_CODE_PATTERN = r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$"
# An org unit or division: county 6 digits, township 9, village 12.
UnitCode = Annotated[str, Code(UNIT_CODE_PATTERN, 12)]
CountyCode = Annotated[str, Code(r"^[0-9]{6}$", 6)]
TownshipCode = Annotated[str, Code(r"^[0-9]{9}$", 9)]
TownshipOrVillageCode = Annotated[str, Code(r"^([0-9]{9}|[0-9]{12})$", 12)]


DECIMAL_STRING_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_STRING = re.compile(DECIMAL_STRING_PATTERN)


@dataclass(frozen=True, slots=True)
class DecimalString:
    """A decimal (an amount of money) sent as a JSON number or a string: the string form is a code, digits with at
    most one point, at most `max_digits` digits (the Decimal's own constraints then apply to the value)."""

    max_digits: int

    @property
    def max_length(self) -> int:
        return self.max_digits + 2  # a sign and a point

    def _check(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()  # as every input string (InputSchema strips whitespace)
        if len(value) > self.max_length or _DECIMAL_STRING.fullmatch(value) is None:
            raise PydanticCustomError("decimal_parsing", "Input should be a valid decimal")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        for variant in value.get("anyOf", []):
            if variant.get("type") == "string":
                variant.update({"pattern": DECIMAL_STRING_PATTERN, "maxLength": self.max_length, POLICY_KEY: "code"})
        return value


@dataclass(frozen=True, slots=True)
class JsonObject:
    """A free-form JSON object (a case's details, a document's template fields) with a size limit."""

    max_bytes: int = 16 * 1024
    max_depth: int = 6
    max_key_length: int = 100

    def _check(self, value: Any, depth: int) -> None:
        if depth > self.max_depth:
            raise PydanticCustomError(
                "json_too_deep", "嵌套过深 / nested too deeply (at most {depth} levels)", {"depth": self.max_depth}
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or len(key) > self.max_key_length or not key:
                    raise PydanticCustomError(
                        "json_key",
                        "键名应为1至{length}个字符 / keys are 1 to {length} characters",
                        {"length": self.max_key_length},
                    )
                self._check_text(key)
                self._check(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                self._check(item, depth + 1)
        elif isinstance(value, str):
            self._check_text(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError("finite_number", "数字应为有限值 / numbers must be finite")

    @staticmethod
    def _check_text(text: str) -> None:
        if _MULTILINE.fullmatch(text) is None:
            raise PydanticCustomError("control_characters", CONTROL_CHARACTERS_MESSAGE)

    def _validate(self, value: dict[str, Any]) -> dict[str, Any]:
        self._check(value, 1)
        try:
            size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        except UnicodeEncodeError:
            raise PydanticCustomError("string_unicode", "文本编码无效 / invalid text encoding") from None
        if size > self.max_bytes:
            raise PydanticCustomError(
                "json_too_large",
                "内容过大，最多 {limit} 字节 / too large: at most {limit} bytes",
                {"limit": self.max_bytes},
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        value[POLICY_KEY] = "json-object"
        value[MAX_BYTES_KEY] = self.max_bytes
        return value


def today(info: ValidationInfo | None = None) -> date:
    """China's date for a past-only check: the validation context's `today` when given (a batch is one moment),
    the clock otherwise."""
    context = info.context if info is not None else None
    if isinstance(context, dict) and TODAY_CONTEXT_KEY in context:
        return cast(date, context[TODAY_CONTEXT_KEY])
    return china_today()


@dataclass(frozen=True, slots=True)
class DateRule:
    """Whether a date (or moment) may lie in the future; past-only ones are refused after today (China time) or,
    for a moment, after now plus `CLOCK_SKEW`."""

    past_only: bool

    def _check(self, value: date | datetime, info: ValidationInfo) -> date | datetime:
        if not self.past_only:
            return value
        if isinstance(value, datetime):
            future = value > utc_now() + CLOCK_SKEW if value.tzinfo else value.date() > today(info)
        else:
            future = value > today(info)
        if future:
            raise PydanticCustomError("date_in_future", "日期不能在将来 / the date cannot be in the future")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        value[PAST_ONLY_KEY] = self.past_only
        return value


PastDate = Annotated[date, DateRule(past_only=True)]
PastDateTime = Annotated[datetime, DateRule(past_only=True)]
AnyDate = Annotated[date, DateRule(past_only=False)]
AnyDateTime = Annotated[datetime, DateRule(past_only=False)]


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_refused", "不能为 null：不修改请省略该字段 / may be left out, but not null")
    return value


class NotNull:
    """Marks an optional field that may be left out but not set to null (see `Omittable`)."""

    @staticmethod
    def __get_pydantic_core_schema__(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # The validator runs only for a value that was sent: a left-out field keeps its default.
        return core_schema.no_info_before_validator_function(_refuse_null, handler(source))

    @staticmethod
    def __get_pydantic_json_schema__(schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value = handler(schema)
        variants = [variant for variant in value.get("anyOf", []) if variant != {"type": "null"}]
        if "anyOf" in value and len(variants) == 1:
            del value["anyOf"]
            value.update(variants[0])
        elif "anyOf" in value:
            value["anyOf"] = variants
        return value


# A field an update may leave out (it keeps its value) but never set to null: `title: Omittable[Title] = None`.
Omittable = Annotated[T | None, NotNull()]
