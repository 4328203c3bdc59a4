"""The one way a page handles a form: validate → the service in a savepoint → redirect, or the form again with
each error next to its field.

Every form post of the pages goes through `Form.read()` then `form.submit()` (`frontend/pages/admin.py`
`user_grant` is the short example): the schema, the service call with the validated body, where to go when it is
done, and how to show the form `again` with the refusals (`form.view(errors)`). `form.attempt()` is the same
without the redirect, for a page that answers the result itself (a client's secret shown once).

- The values are read once, stripped (but for `verbatim` ones such as passwords); empty inputs are "not given"
  (left out of validation); `lists` are read as every value of a repeated input (checkboxes).
- Pydantic's refusals become `{field: message}` in the pages' bilingual wording ("必填 / required",
  "格式不正确 / invalid format"), with per-field wording where a page says more (`messages=`).
- The service runs in a savepoint, so a refused write leaves nothing behind and the page can still read the
  database to show the form again. A domain error becomes the form again with its fields; a 404 stays a 404
  (the object is out of reach: existence is information), unless the page asks otherwise (`not_found=`).
- `prefix` keeps the errors of several forms on one page apart (`renew_`, `revoke_`...); `fields` shows a schema
  field's errors at the input that feeds it (a user's first grant at the role select).
- The page shows the form through a `FormView` (its values, its errors, 200 or 422): `render(..., form=view)`
  puts `values` and `errors` in the template's context, and a page's builder takes one view instead of three
  arguments. The template macros that show them are in templates/macros.html.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.errors import DomainError
from backend.core.input import policy_message

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")

REQUIRED = "必填 / required"
INVALID_FORMAT = "格式不正确 / invalid format"
_MISSING_TYPES = frozenset({"missing"})


class FieldErrors(dict[str, str]):
    """Messages of a refused form by field name ("form" for what belongs to no field): a type of its own, so a
    refusal is never mistaken for a service's result."""


_LOCATION_PARTS = ("body", "query", "path")


def field_errors(error: DomainError, prefix: str = "") -> dict[str, str]:
    """The messages of a refused form, by field name (the location without body/query/path), to show next to the
    field; problems that belong to no field are under "form"."""
    errors: dict[str, str] = {}
    for problem in error.fields:
        names = [str(part) for part in problem.loc if str(part) not in _LOCATION_PARTS]
        key = ".".join(names) if names else "form"
        errors.setdefault(prefix + key, problem.msg)
    if not errors:
        errors[prefix + "form"] = error.detail
    return errors


def validation_errors(
    invalid: ValidationError,
    *,
    prefix: str = "",
    messages: Mapping[str, str] | None = None,
    depth: int | None = 1,
    missing: str = REQUIRED,
    invalid_format: str = INVALID_FORMAT,
) -> FieldErrors:
    """Pydantic's refusals by field. `depth` is how many parts of the location name the field (1: the top-level
    field, None: the whole dotted path); `messages` overrides the wording per field."""
    errors = FieldErrors()
    for error in invalid.errors():
        parts = [str(part) for part in error["loc"]]
        name = ".".join(parts if depth is None else parts[:depth]) or "form"
        message = (messages or {}).get(name) or (
            missing if error["type"] in _MISSING_TYPES else policy_message(error) or invalid_format
        )
        errors.setdefault(prefix + name, message)
    return errors or FieldErrors({prefix + "form": invalid_format})


@dataclass(frozen=True)
class FormView:
    """What a page shows of its form: the values as typed, each error at its field, and the status the page
    answers with (422 once refused). `FormView()` is the form's first showing."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    status_code: int = 200

    def context(self) -> dict[str, Any]:
        """The template variables of the form: `values` and `errors`."""
        return {"values": self.values, "errors": self.errors}


@dataclass
class Form:
    """One posted form: its values by name, as typed (stripped)."""

    values: dict[str, Any]
    prefix: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def read(
        cls,
        request: Request,
        names: Iterable[str],
        *,
        prefix: str = "",
        verbatim: Iterable[str] = (),
        lists: Iterable[str] = (),
    ) -> Form:
        """The named fields of the posted form (missing ones as ""): stripped, but for the `verbatim` ones (a
        password is what was typed); each of `lists` is the list of its values (checkboxes of one name)."""
        form = await request.form()
        kept = frozenset(verbatim)
        values: dict[str, Any] = {
            name: str(form.get(name, "")) if name in kept else str(form.get(name, "")).strip() for name in names
        }
        for name in lists:
            values[name] = [str(value).strip() for value in form.getlist(name)]
        return cls(values, prefix=prefix)

    def view(self, errors: Mapping[str, str] | None = None) -> FormView:
        """The form shown again with its values: refused (422) with `errors`, or as it is (200) without."""
        return FormView(self.values, errors or {}, 422 if errors else 200)

    def given(self, *names: str, **extra: Any) -> dict[str, Any]:
        """The non-empty values (of `names` only, when given), with `extra` on top: what the schema validates."""
        data: dict[str, Any] = {
            name: value for name, value in self.values.items() if value not in ("", []) and (not names or name in names)
        }
        data.update(extra)
        return data

    def parse(
        self, schema: type[SchemaT], data: Mapping[str, Any] | None = None, **options: Any
    ) -> SchemaT | FieldErrors:
        """The validated body, or the refusals by field (see `validation_errors` for `options`)."""
        try:
            return schema.model_validate(self.given() if data is None else data)
        except ValidationError as invalid:
            errors = validation_errors(invalid, messages=self.messages, **options)
            return self._at_inputs(errors)

    def errors_of(self, error: DomainError) -> FieldErrors:
        """A domain error's problems by field, with this form's prefix."""
        return self._at_inputs(field_errors(error))

    def _at_inputs(self, errors: Mapping[str, str]) -> FieldErrors:
        """Errors keyed by the inputs that show them: `fields` renames a schema field (by its first part), then
        the form's prefix goes in front."""
        shown = FieldErrors()
        for key, message in errors.items():
            name = self.fields.get(key.split(".")[0], key)
            shown.setdefault(self.prefix + name, message)
        return shown

    async def run(
        self,
        session: AsyncSession,
        perform: Callable[[], Awaitable[ResultT]],
        *,
        not_found: Callable[[DomainError], dict[str, str]] | None = None,
    ) -> ResultT | FieldErrors:
        """The service call in a savepoint: its result, or the refusals by field (nothing written)."""
        try:
            async with session.begin_nested():
                return await perform()
        except DomainError as error:
            if error.status_code == 404:
                if not_found is None:
                    raise
                return FieldErrors(not_found(error))
            return self.errors_of(error)

    async def attempt(
        self,
        session: AsyncSession,
        schema: type[SchemaT],
        perform: Callable[[SchemaT], Awaitable[ResultT]],
        *,
        data: Mapping[str, Any] | None = None,
        checks: Mapping[str, str] | None = None,
        not_found: Callable[[DomainError], dict[str, str]] | None = None,
        **options: Any,
    ) -> ResultT | FieldErrors:
        """Validate the values as `schema` (or `data`, when the page builds the body itself) and run `perform` with
        the body in a savepoint: its result, or every refusal by field. `checks` are the page's own refusals (a
        confirmation box not ticked), shown together with the schema's."""
        body = self.parse(schema, data, **options)
        if checks or isinstance(body, FieldErrors):
            return FieldErrors({**(checks or {}), **(body if isinstance(body, FieldErrors) else {})})
        validated = body
        return await self.run(session, lambda: perform(validated), not_found=not_found)

    async def submit(
        self,
        session: AsyncSession,
        schema: type[SchemaT],
        perform: Callable[[SchemaT], Awaitable[ResultT]],
        *,
        done: str | Callable[[ResultT], str],
        again: Callable[[dict[str, str]], Awaitable[Response]],
        data: Mapping[str, Any] | None = None,
        checks: dict[str, str] | None = None,
        not_found: Callable[[DomainError], dict[str, str]] | None = None,
        **options: Any,
    ) -> Response:
        """`attempt()`, then redirect (303) to `done`; on any refusal, `again(errors)` shows the form with each
        error at its field."""
        result = await self.attempt(session, schema, perform, data=data, checks=checks, not_found=not_found, **options)
        if isinstance(result, FieldErrors):
            return await again(result)
        return RedirectResponse(done(result) if callable(done) else done, status_code=303)
