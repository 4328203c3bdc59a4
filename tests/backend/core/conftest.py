"""Storage fixtures: a loopback S3 server for the session and a fresh store per test for each driver.

Later suites reuse these by importing them into their own conftest (fixtures are only visible below the
conftest that defines them), together with the fixtures they depend on:

    from tests.backend.core.conftest import (  # noqa: F401
        make_s3_storage, s3_server, storage, storage_clock, storage_kind,
    )

A session fixture imported into two conftests is two fixtures, hence two servers: when a second directory
needs S3, move `s3_server` to `tests/conftest.py` so that one server serves the whole session. The server
logic itself (`tests/backend/core/s3_server.py`) has no pytest in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from backend.config import Settings
from backend.core.clock import utc_now
from backend.core.storage import (
    LocalObjectStorage,
    ObjectStorage,
    RetentionMode,
    S3ObjectStorage,
    build_storage,
)
from tests.backend.core.s3_server import S3Endpoint, running_s3_server


class MovableClock:
    """Real time plus an offset that a test can move; handed to a storage as its `now`."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def unique_bucket_name() -> str:
    return f"lg-test-{uuid.uuid4().hex[:20]}"


def s3_settings(server: S3Endpoint, bucket: str) -> Settings:
    """Settings that point the app at the test server."""
    return Settings(
        storage_driver="s3",
        s3_endpoint=server.endpoint,
        s3_access_key=server.access_key,
        s3_secret_key=server.secret_key,
        s3_bucket=bucket,
        s3_region=server.region,
        s3_secure=False,
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """One loopback S3 server (MinIO if installed, else moto) for the whole session."""
    with running_s3_server(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture
def storage_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def make_s3_storage(s3_server: S3Endpoint, storage_clock: MovableClock) -> Callable[..., S3ObjectStorage]:
    """Build an S3 store on a new bucket (not created yet: call `ensure_bucket`), with the test clock."""

    def make(bucket: str | None = None, *, retention_mode: RetentionMode = "GOVERNANCE") -> S3ObjectStorage:
        storage = build_storage(s3_settings(s3_server, bucket or unique_bucket_name()), now=storage_clock.now)
        assert isinstance(storage, S3ObjectStorage)
        if retention_mode != "GOVERNANCE":
            storage = S3ObjectStorage(
                storage.client,
                storage.bucket,
                region=s3_server.region,
                retention_mode=retention_mode,
                now=storage_clock.now,
            )
        return storage

    return make


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def storage(
    storage_kind: str, request: pytest.FixtureRequest, tmp_path, storage_clock: MovableClock
) -> ObjectStorage:
    """A fresh, empty store of each driver: a new directory, or a new bucket with object lock."""
    if storage_kind == "local":
        store: ObjectStorage = build_storage(
            Settings(storage_driver="local", storage_local_dir=tmp_path / "objects"), now=storage_clock.now
        )
        assert isinstance(store, LocalObjectStorage)
    else:
        # Looked up only here, so a run of local tests alone never starts a server.
        store = request.getfixturevalue("make_s3_storage")()
    await store.ensure_bucket()
    return store
