"""Test fixtures live in tests/fixtures/, one module per concern."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.temporal",
    "tests.fixtures.app",
    "tests.fixtures.browser",
    "tests.fixtures.identity",
    "tests.fixtures.village",
]


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Browser journeys run last: Playwright's sync API keeps an event loop running on the main thread for
    the rest of the session, after which pytest-asyncio could not run async tests."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
