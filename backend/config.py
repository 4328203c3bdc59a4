"""Settings for every process (API, worker, CLI), read from the environment.

Every service location comes from the environment so that `make run`, the test suite, compose and
production run the same code. Outside development and test the app refuses to start with a default secret.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Development defaults. They are public (they are in this file), so production refuses them.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_PLATFORM_ADMIN_TOKEN = "dev-platform-admin-token"
DEV_DATABASE_PASSWORD = "liuguan-dev"
DEV_S3_SECRET_KEY = "liuguan-dev-secret"
DEV_DATA_ENCRYPTION_KEY = "ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Environment = Environment.development

    # The application connects as a role that owns no table and cannot bypass row-level security.
    database_url: str = Field(default="", description="SQLAlchemy URL for the application role")
    # Migrations run as the schema owner; in production a separate, more privileged credential.
    database_owner_url: str = Field(default="", description="SQLAlchemy URL for the schema owner role")
    database_pool_size: int = 10
    # How long a request waits for a pooled connection before it is answered 503 (busy, retry) instead.
    database_pool_timeout_seconds: float = 30.0
    # Backups (`backend.cli backup`/`restore`): a role that bypasses row-level security and reads every row
    # (BYPASSRLS + pg_read_all_data, docs/operations.md section 9); pg_dump refuses to dump a forced policy's
    # table otherwise. pg_bin_dir: where pg_dump/pg_restore are when not on PATH (at least the server's major).
    database_backup_url: str = ""
    pg_bin_dir: Path | None = None

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # The platform task queue; domain queues are named in workflows/task_queues.py.
    temporal_task_queue: str = "liuguan-platform"
    # A secured Temporal (Temporal Cloud or a self-hosted cluster with TLS): TLS on, optionally with a CA
    # bundle for a private CA, a client certificate and key (mTLS), and/or an API key (sent as a bearer
    # token; setting one turns TLS on). backend/core/temporal.py builds the connection from these.
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str = ""
    temporal_api_key: str = ""

    # Object storage: "local" (a directory under var/, the embedded default) or "s3" (MinIO in production).
    storage_driver: str = "local"
    storage_local_dir: Path = PROJECT_ROOT / "var" / "objects"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = "liuguan-dev"
    s3_secret_key: str = DEV_S3_SECRET_KEY
    s3_bucket: str = "liuguan"
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    presigned_url_seconds: int = 300
    upload_max_bytes: int = 20 * 1024 * 1024
    # Documents: retention in years per document kind (保存期限; see backend/documents/retention.py for the
    # defaults of kinds not listed) and a directory of per-county template overrides (<dir>/<county code>/).
    document_retention_years: dict[str, int] = Field(default_factory=dict)
    document_templates_dir: Path = PROJECT_ROOT / "var" / "document-templates"
    # Where the QR code of an issued document points: <public_base_url>/verify/<token>.
    # Production refuses the default and any loopback address (a QR code nobody outside can open).
    public_base_url: str = DEV_PUBLIC_BASE_URL

    secret_key: str = DEV_SECRET_KEY
    # Key for personal data encrypted at rest (ID and phone numbers); 32 bytes, urlsafe base64.
    data_encryption_key: str = DEV_DATA_ENCRYPTION_KEY
    platform_admin_token: str = DEV_PLATFORM_ADMIN_TOKEN

    # Browser sessions and sign-in.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # Department API clients (OAuth2 client credentials).
    access_token_minutes: int = 15
    # Per-client token bucket of the intake API, per API process (backend/intake/ratelimit.py).
    intake_rate_per_second: float = 1000.0
    intake_rate_burst: int = 2000
    # Department callbacks may reach internal addresses only in these networks (CIDR, e.g. a county's
    # e-government network); loopback, private and link-local are refused otherwise (backend/core/outbound.py).
    callback_allowed_networks: list[str] = Field(default_factory=list)
    # Break-glass read access outside one's scope.
    break_glass_default_minutes: int = 120
    break_glass_max_minutes: int = 480

    # The API's documentation (/docs, /openapi.json): served unless in production, where API_DOCS=true turns it on.
    api_docs: bool | None = None
    # Metrics: the api's /metrics wants this bearer token (without one, production answers 404 there); the
    # worker serves its metrics and /healthz on worker_metrics_port and Temporal's SDK metrics on
    # worker_sdk_metrics_port (0 turns either off).
    metrics_token: str = ""
    worker_metrics_port: int = 9464
    worker_sdk_metrics_port: int = 9465

    log_level: str = "INFO"
    log_json: bool = True

    var_dir: Path = PROJECT_ROOT / "var"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != Environment.production:
            return self
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("SECRET_KEY is the development default or shorter than 32 characters")
        if self.platform_admin_token == DEV_PLATFORM_ADMIN_TOKEN or len(self.platform_admin_token) < 32:
            problems.append("PLATFORM_ADMIN_TOKEN is the development default or shorter than 32 characters")
        if self.data_encryption_key == DEV_DATA_ENCRYPTION_KEY:
            problems.append("DATA_ENCRYPTION_KEY is the development default")
        if self.storage_driver == "s3" and self.s3_secret_key == DEV_S3_SECRET_KEY:
            problems.append("S3_SECRET_KEY is the development default")
        # The owner credential is needed only where migrations run (the migrate job, the CLI's db upgrade);
        # the API and worker pods do not carry it. When it is present it must not be the development one.
        if not self.database_url:
            problems.append("DATABASE_URL is not set")
        for name in ("database_url", "database_owner_url", "database_backup_url"):
            url = getattr(self, name)
            if url and make_url(url).password in (None, "", DEV_DATABASE_PASSWORD):
                problems.append(f"{name.upper()} uses no password or the development password")
        problems.extend(self._public_base_url_problems())
        if problems:
            # pydantic turns this into a ValidationError naming every problem; the process exits at start-up.
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def _public_base_url_problems(self) -> list[str]:
        parts = urlsplit(self.public_base_url)
        if self.public_base_url == DEV_PUBLIC_BASE_URL or parts.scheme not in ("http", "https") or not parts.hostname:
            return ["PUBLIC_BASE_URL is the development default or not an absolute http(s) URL"]
        if parts.hostname in _LOOPBACK_HOSTS or parts.hostname.startswith("127."):
            return ["PUBLIC_BASE_URL is a loopback address: nobody could open the QR codes on issued documents"]
        return []

    @model_validator(mode="after")
    def _check_temporal_tls(self) -> Settings:
        """In every environment: a half-configured mutual TLS or a missing file stops the process at start."""
        problems = []
        if bool(self.temporal_tls_cert_file) != bool(self.temporal_tls_key_file):
            problems.append("TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (mutual TLS)")
        for name in ("temporal_tls_ca_file", "temporal_tls_cert_file", "temporal_tls_key_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                problems.append(f"{name.upper()} is not a readable file: {path}")
        if problems:
            raise ValueError("Temporal TLS settings: " + "; ".join(problems))
        return self

    @property
    def temporal_uses_tls(self) -> bool:
        """TLS towards Temporal: asked for, implied by a certificate or CA, or by an API key (Temporal Cloud)."""
        return bool(
            self.temporal_tls or self.temporal_api_key or self.temporal_tls_ca_file or self.temporal_tls_cert_file
        )

    @property
    def api_docs_enabled(self) -> bool:
        """Whether /docs and /openapi.json are served: the setting, or off in production and on elsewhere."""
        return self.api_docs if self.api_docs is not None else self.environment != Environment.production

    @property
    def app_role(self) -> str:
        """The database role the application runs as; migrations grant it table privileges."""
        return make_url(self.database_url).username or "liuguan_app"


@lru_cache
def get_settings() -> Settings:
    return Settings()
