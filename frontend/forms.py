"""The one way a page handles a form: validate → the service in a savepoint → redirect, or the form again with
each error next to its field.

Every form post of the pages goes through `Form.submit()`:

    form = await Form.read(request, ("inspected_on", "result", "notes"))
    return await form.submit(
        session,
        InspectionCreate,
        lambda body: service.inspect_certificate(session, principal, certificate_id, body),
        done=f"/certificates/{certificate_id}?done=inspected",
        again=lambda errors: _certificate_page(..., values=form.values, errors=errors, status_code=422),
    )

- The values are read once, stripped; empty inputs are "not given" (left out of validation).
- Pydantic's refusals become `{field: message}` in the pages' bilingual wording ("必填 / required",
  "格式不正确 / invalid format"), with per-field wording where a page says more (`messages=`).
- The service runs in a savepoint, so a refused write leaves nothing behind and the page can still read the
  database to show the form again. A domain error becomes the form again with its fields; a 404 stays a 404
  (the object is out of reach: existence is information), unless the page asks otherwise (`not_found=`).
- `prefix` keeps the errors of several forms on one page apart (`renew_`, `revoke_`...).
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
        message = (messages or {}).get(name) or (missing if error["type"] in _MISSING_TYPES else invalid_format)
        errors.setdefault(prefix + name, message)
    return errors or FieldErrors({prefix + "form": invalid_format})


@dataclass
class Form:
    """One posted form: its values by name, as typed (stripped)."""

    values: dict[str, str]
    prefix: str = ""
    messages: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def read(cls, request: Request, names: Iterable[str], *, prefix: str = "") -> Form:
        """The named fields of the posted form (missing ones as "")."""
        form = await request.form()
        return cls({name: str(form.get(name, "")).strip() for name in names}, prefix=prefix)

    def given(self, *names: str, **extra: Any) -> dict[str, Any]:
        """The non-empty values (of `names` only, when given), with `extra` on top: what the schema validates."""
        data: dict[str, Any] = {
            name: value for name, value in self.values.items() if value != "" and (not names or name in names)
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
            return validation_errors(invalid, prefix=self.prefix, messages=self.messages, **options)

    def errors_of(self, error: DomainError) -> FieldErrors:
        """A domain error's problems by field, with this form's prefix."""
        return FieldErrors(field_errors(error, self.prefix))

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
        """Validate the values as `schema` (or `data`, when the page builds the body itself), run `perform` with
        the body in a savepoint, then redirect (303) to `done`; on any refusal, `again(errors)` shows the form
        with each error at its field. `checks` are the page's own refusals (a confirmation box not ticked),
        shown together with the schema's."""
        body = self.parse(schema, data, **options)
        if checks or isinstance(body, FieldErrors):
            return await again({**(checks or {}), **(body if isinstance(body, FieldErrors) else {})})
        validated = body
        result = await self.run(session, lambda: perform(validated), not_found=not_found)
        if isinstance(result, FieldErrors):
            return await again(result)
        return RedirectResponse(done(result) if callable(done) else done, status_code=303)
