"""The case tests' person factory, for the cases handed over here."""

from tests.backend.cases.conftest import add_person  # noqa: F401  (the fixture)
