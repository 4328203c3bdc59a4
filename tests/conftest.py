"""Test fixtures live in tests/fixtures/, one module per concern."""

import pytest

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.temporal",
    "tests.fixtures.app",
    "tests.fixtures.browser",
    "tests.fixtures.identity",
    "tests.fixtures.demo",
    "tests.fixtures.village",
]


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Browser journeys run last: Playwright's sync API keeps an event loop running on the main thread for
    the rest of the session, after which pytest-asyncio could not run async tests. Before them run the tests of
    the living demo (marker `demo`), which leaves the demo counties in the database for the rest of the session."""
    for item in items:
        if item.get_closest_marker("demo") is not None:
            # One parallel worker runs every demo test (make test: --dist loadgroup), so the demo loads once.
            item.add_marker(pytest.mark.xdist_group("demo"))
            # Loading the demo (a year of work played through the services) takes minutes on a loaded machine;
            # the first demo test pays for it, the CLI test twice.
            item.add_marker(pytest.mark.timeout(2400))
    items.sort(
        key=lambda item: (item.get_closest_marker("e2e") is not None, item.get_closest_marker("demo") is not None)
    )
