"""Operator commands: `python -m backend.cli <group> <command> ...`.

db upgrade                         apply migrations (as the schema owner)
tenant create <code> <name>        provision a county
org import <tenant> <file.csv>     load a county's org tree (all or nothing)
audit verify --tenant <code>       walk a county's audit hash chain; exit 1 at the first broken link
demo seed                          load the demo counties when the database is empty
demo reset                        wipe every county and load the demo again (not in production)
openapi [--output docs/openapi.json]
                                   write the API's OpenAPI document (what integrators generate clients from)
backup --output <dir>              pg_dump of the database and a manifest of counts and object checksums
restore --input <dir> [--database-url URL]
                                   pg_restore into an empty database, then check counts, audit chains, objects
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.backups.pgtools import ToolMissing
from backend.backups.service import BackupFailed
from backend.config import get_settings
from backend.core.context import Actor, actor_var
from backend.core.errors import DomainError
from backend.db.engine import Database

CLI_ACTOR = Actor(kind="system", id="cli", label="命令行 operator CLI")


def upgrade_database(owner_url: str | None = None, app_role: str | None = None) -> None:
    """`alembic upgrade head` as the owner; the app role named in the URL receives the grants."""
    from alembic import command
    from alembic.config import Config

    from backend.config import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if owner_url:
        config.attributes["owner_url"] = owner_url
    if app_role:
        config.attributes["app_role"] = app_role
    command.upgrade(config, "head")


async def _in_transaction(work: Callable[..., Awaitable[int]]) -> int:
    database = Database.from_settings(get_settings())
    try:
        async with database.sessionmaker() as session, session.begin():
            return await work(session)
    finally:
        await database.dispose()


async def _tenant_create(code: str, name: str) -> int:
    from backend.tenants.schemas import TenantCreate
    from backend.tenants.service import provision_tenant

    async def work(session: AsyncSession) -> int:
        tenant = await provision_tenant(session, TenantCreate(code=code, name=name))
        print(f"provisioned {tenant.code} {tenant.name} ({tenant.id})")
        return 0

    return await _in_transaction(work)


async def _org_import(code: str, csv_text: str) -> int:
    from backend.org.service import import_org_csv
    from backend.tenants.service import enter_tenant

    async def work(session: AsyncSession) -> int:
        await enter_tenant(session, code)
        result = await import_org_csv(session, county_code=code, text=csv_text)
        print(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
        return 0

    return await _in_transaction(work)


async def _audit_verify(code: str) -> int:
    from backend.audit.service import verify_chain
    from backend.tenants.service import enter_tenant

    async def work(session: AsyncSession) -> int:
        await enter_tenant(session, code)
        result = await verify_chain(session)
        if result.ok:
            print(f"OK: tenant {code}, {result.events_checked} events, chain intact")
            return 0
        print(
            f"BROKEN: tenant {code}, first broken link at seq {result.broken_seq} "
            f"(event id {result.broken_id}): {result.problem}; {result.events_checked} events verified before it"
        )
        return 1

    return await _in_transaction(work)


async def _documents_cleanup_orphans(code: str, grace_minutes: int) -> int:
    from datetime import timedelta

    from backend.documents.service import cleanup_orphans
    from backend.documents.storage import document_storage
    from backend.tenants.service import enter_tenant

    async def work(session: AsyncSession) -> int:
        await enter_tenant(session, code)
        result = await cleanup_orphans(session, await document_storage(), grace=timedelta(minutes=grace_minutes))
        print(
            f"tenant {code}: {result.examined} objects examined, {len(result.removed)} orphans removed, "
            f"{result.kept_recent} too recent, {result.kept_retained} retained"
        )
        return 0

    return await _in_transaction(work)


async def _reports_refresh(code: str | None) -> int:
    from backend.reports.overview import refresh_county
    from backend.tenants.service import enter_tenant, list_tenants

    database = Database.from_settings(get_settings())
    try:
        async with database.sessionmaker() as session, session.begin():
            codes = [code] if code else [tenant.code for tenant in await list_tenants(session) if tenant.active]
        for county in codes:
            async with database.sessionmaker() as session, session.begin():
                await enter_tenant(session, county)
                rows = await refresh_county(session, county)
            print(f"tenant {county}: {rows} KPI counts refreshed")
        return 0
    finally:
        await database.dispose()


async def _demo_seed() -> int:
    from backend.demo.seed import seed_demo_data

    settings = get_settings()
    database = Database.from_settings(settings)
    try:
        loaded = await seed_demo_data(database, settings)
    finally:
        await database.dispose()
    print("demo data loaded" if loaded else "database already has data; demo data not loaded")
    return 0


async def _demo_reset() -> int:
    from backend.demo.seed import reset_demo

    settings = get_settings()
    database = Database.from_settings(settings)
    try:
        await reset_demo(database, settings)
    finally:
        await database.dispose()
    print("every county wiped; demo data loaded again")
    return 0


async def _backup(output: Path) -> int:
    from backend.backups.service import take_backup
    from backend.core.storage import build_storage

    settings = get_settings()
    manifest = await take_backup(settings, build_storage(settings), output)
    database = manifest["database"]
    print(
        f"backup written to {output}: {len(database['tables'])} tables, {sum(database['tables'].values())} rows, "
        f"dump {database['bytes']} bytes (sha256 {database['sha256'][:16]}...), {len(manifest['objects'])} objects"
    )
    return 0


async def _restore(source: Path, database_url: str | None) -> int:
    from backend.backups.service import restore
    from backend.core.storage import build_storage

    settings = get_settings()
    target = database_url or settings.database_backup_url
    if not target:
        print("error: give --database-url or set DATABASE_BACKUP_URL (the target database)", file=sys.stderr)
        return 2
    report = await restore(settings, build_storage(settings), source, target)
    for check in report.checks:
        print(f"{'OK' if check.ok else 'FAILED'}: {check.name}: {check.detail}")
    print("restore verified" if report.ok else "restore NOT verified: see FAILED above")
    return 0 if report.ok else 1


def openapi_text(document: dict[str, Any]) -> str:
    """An OpenAPI document as committed in docs/openapi.json (sorted keys, two-space indent, UTF-8 text)."""
    import json

    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def openapi_json() -> str:
    """The app's OpenAPI document, as `openapi_text` writes it."""
    from backend.config import Settings
    from backend.main import create_app

    # Defaults only: the document does not depend on where the services are, and needs no secret.
    return openapi_text(create_app(Settings.model_construct()).openapi())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend.cli", description="Liuguan operator commands")
    groups = parser.add_subparsers(dest="group", required=True)

    db = groups.add_parser("db").add_subparsers(dest="command", required=True)
    db.add_parser("upgrade", help="apply all migrations")

    tenant = groups.add_parser("tenant").add_subparsers(dest="command", required=True)
    create = tenant.add_parser("create", help="provision a county")
    create.add_argument("code", help="6-digit county division code")
    create.add_argument("name")

    org = groups.add_parser("org").add_subparsers(dest="command", required=True)
    org_import = org.add_parser("import", help="import a county's org tree from CSV")
    org_import.add_argument("tenant", help="6-digit county code")
    org_import.add_argument("file", type=Path)

    audit = groups.add_parser("audit").add_subparsers(dest="command", required=True)
    verify = audit.add_parser("verify", help="verify a county's audit hash chain")
    verify.add_argument("--tenant", required=True, help="6-digit county code")

    documents = groups.add_parser("documents").add_subparsers(dest="command", required=True)
    orphans = documents.add_parser("cleanup-orphans", help="remove stored objects that have no document row")
    orphans.add_argument("--tenant", required=True, help="6-digit county code")
    orphans.add_argument("--grace-minutes", type=int, default=60, help="keep objects younger than this")

    reports = groups.add_parser("reports").add_subparsers(dest="command", required=True)
    refresh = reports.add_parser("refresh-kpis", help="recount the KPI counts the platform operator reads")
    refresh.add_argument("--tenant", help="6-digit county code (default: every active county)")

    demo = groups.add_parser("demo").add_subparsers(dest="command", required=True)
    demo.add_parser("seed", help="load demo data into an empty database")
    demo.add_parser("reset", help="wipe every county and load the demo data again (not in production)")

    openapi = groups.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=None, help="a file (default: standard output)")

    backup = groups.add_parser("backup", help="dump the database and write a manifest (DATABASE_BACKUP_URL)")
    backup.add_argument("--output", type=Path, required=True, help="an empty directory for the backup")
    restore = groups.add_parser("restore", help="restore a backup into an empty database and verify it")
    restore.add_argument("--input", type=Path, required=True, help="a directory written by backup")
    restore.add_argument("--database-url", help="the empty target database (default: DATABASE_BACKUP_URL)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    actor_var.set(CLI_ACTOR)
    try:
        match (args.group, getattr(args, "command", None)):
            case ("db", "upgrade"):
                upgrade_database()
                return 0
            case ("tenant", "create"):
                return asyncio.run(_tenant_create(args.code, args.name))
            case ("org", "import"):
                try:
                    csv_text = args.file.read_text(encoding="utf-8-sig")
                except OSError as error:
                    print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
                    return 2
                return asyncio.run(_org_import(args.tenant, csv_text))
            case ("audit", "verify"):
                return asyncio.run(_audit_verify(args.tenant))
            case ("documents", "cleanup-orphans"):
                return asyncio.run(_documents_cleanup_orphans(args.tenant, args.grace_minutes))
            case ("reports", "refresh-kpis"):
                return asyncio.run(_reports_refresh(args.tenant))
            case ("demo", "seed"):
                return asyncio.run(_demo_seed())
            case ("demo", "reset"):
                return asyncio.run(_demo_reset())
            case ("openapi", _):
                if args.output is None:
                    sys.stdout.write(openapi_json())
                else:
                    args.output.write_text(openapi_json(), encoding="utf-8")
                return 0
            case ("backup", _):
                return asyncio.run(_backup(args.output))
            case ("restore", _):
                return asyncio.run(_restore(args.input, args.database_url))
    except (BackupFailed, ToolMissing) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        for field in error.fields:
            print(f"  {' '.join(str(part) for part in field.loc)}: {field.msg}", file=sys.stderr)
        return 2
    raise AssertionError("unreachable: argparse requires a known command")


if __name__ == "__main__":
    sys.exit(main())
