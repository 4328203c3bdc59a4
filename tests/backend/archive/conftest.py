"""The S3 test server's fixtures (a fresh bucket with object lock per test), and the case tests' person factory."""

from tests.backend.cases.conftest import add_person  # noqa: F401  (the fixture)
from tests.backend.core.conftest import make_s3_storage, s3_server, storage_clock  # noqa: F401  (fixtures)
