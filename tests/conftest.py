"""Test fixtures live in tests/fixtures/, one module per concern."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.temporal",
    "tests.fixtures.app",
    "tests.fixtures.browser",
    "tests.fixtures.identity",
    "tests.fixtures.demo",
]


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Browser journeys run last: Playwright's sync API keeps an event loop running on the main thread for
    the rest of the session, after which pytest-asyncio could not run async tests. Before them run the tests of
    the living demo (marker `demo`), which leaves the demo counties in the database for the rest of the session."""
    items.sort(
        key=lambda item: (item.get_closest_marker("e2e") is not None, item.get_closest_marker("demo") is not None)
    )
