"""Settings come from the environment, and production refuses the published development secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.config import Settings

STRONG = "x" * 40
PRODUCTION_URLS = {
    "database_url": "postgresql+asyncpg://liuguan_app:Str0ng-secret@db/liuguan",
    "database_owner_url": "postgresql+asyncpg://liuguan_owner:An0ther-secret@db/liuguan",
    "public_base_url": "https://liuguan.example.gov.cn",
}
PRODUCTION_SECRETS = {
    "secret_key": STRONG,
    "platform_admin_token": STRONG,
    "data_encryption_key": "c3Ryb25nLWtleS1mb3ItcHJvZHVjdGlvbi0xMjM0NTY=",
}


def test_production_refuses_development_defaults() -> None:
    with pytest.raises(ValidationError, match="refusing to start in production") as refused:
        Settings(environment="production", **PRODUCTION_URLS)
    message = str(refused.value)
    for name in ("SECRET_KEY", "PLATFORM_ADMIN_TOKEN", "DATA_ENCRYPTION_KEY"):
        assert name in message


def test_production_refuses_the_development_database_password() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL uses no password or the development password"):
        Settings(
            environment="production",
            secret_key=STRONG,
            platform_admin_token=STRONG,
            data_encryption_key="c3Ryb25nLWtleS1mb3ItcHJvZHVjdGlvbi0xMjM0NTY=",
            database_url="postgresql+asyncpg://liuguan_app:liuguan-dev@db/liuguan",
            database_owner_url=PRODUCTION_URLS["database_owner_url"],
            public_base_url=PRODUCTION_URLS["public_base_url"],
        )


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        secret_key=STRONG,
        platform_admin_token=STRONG,
        data_encryption_key="c3Ryb25nLWtleS1mb3ItcHJvZHVjdGlvbi0xMjM0NTY=",
        **PRODUCTION_URLS,
    )
    assert settings.app_role == "liuguan_app"


@pytest.mark.parametrize(
    "public_base_url",
    ["http://127.0.0.1:8000", "http://localhost:8000", "https://127.0.0.2", "liuguan.example.gov.cn", "ftp://x.cn"],
)
def test_production_refuses_a_public_base_url_nobody_outside_can_open(public_base_url: str) -> None:
    urls = {**PRODUCTION_URLS, "public_base_url": public_base_url}
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        Settings(environment="production", **PRODUCTION_SECRETS, **urls)


def test_production_accepts_the_county_address_for_qr_codes() -> None:
    settings = Settings(environment="production", **PRODUCTION_SECRETS, **PRODUCTION_URLS)
    assert settings.public_base_url == "https://liuguan.example.gov.cn"


def test_service_locations_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("S3_ENDPOINT", "minio.internal:9000")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://a:b@db.internal/x")
    settings = Settings()
    assert (settings.temporal_address, settings.s3_endpoint) == ("temporal.internal:7233", "minio.internal:9000")
    assert settings.database_url.endswith("db.internal/x")
