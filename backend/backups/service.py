"""Backup and the restore drill.

`take_backup` writes, into an empty directory:
- `database.dump`: `pg_dump --format=custom` of the whole database (every county, the audit chains, the
  grants and row-level-security policies), taken from an exported snapshot;
- `manifest.json`: the dump's SHA-256, the server version, every table's row count in that same snapshot,
  and every stored object's key, size and SHA-256 (the objects themselves are copied by the object store's
  replication, docs/operations.md section 9; the manifest proves the copy complete and intact).

`restore` checks the dump against the manifest, runs `pg_restore --exit-on-error --single-transaction` into
an empty database prepared as in docs/operations.md section 2, and then `verify_restored`: the same row
counts, every county's audit chain intact, and every document's object present in the store with the
SHA-256 its row records (and every object of the manifest with its checksum).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.audit.service import verify_chain
from backend.backups.pgtools import find_tool, libpq
from backend.backups.repository import BackupRepository
from backend.config import Settings
from backend.core.storage import ObjectNotFound, ObjectStorage
from backend.db.engine import create_engine
from backend.db.tenancy import set_tenant

MANIFEST = "manifest.json"
DUMP = "database.dump"
MANIFEST_FORMAT = 1


class BackupFailed(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


@dataclass
class Check:
    """One thing the restore drill compared, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass
class RestoreReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


async def _run(tool: str, settings: Settings, args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        str(find_tool(tool, settings.pg_bin_dir)),
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackupFailed(f"{tool} failed ({process.returncode}): {stderr.decode(errors='replace').strip()}")


def _environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without libpq variables of its own, plus the connection's."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, **extra}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def object_digest(storage: ObjectStorage, key: str) -> tuple[str, int] | None:
    """The SHA-256 and size of the object stored under `key`, streamed, or None when nothing is stored."""
    digest, size = hashlib.sha256(), 0
    try:
        async with await storage.open_stream(key) as stream:
            async for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
    except ObjectNotFound:
        return None
    return digest.hexdigest(), size


async def object_manifest(storage: ObjectStorage) -> list[dict[str, Any]]:
    """Every object in the store with its size and SHA-256."""
    entries = []
    for key in sorted(await storage.list_keys("")):
        found = await object_digest(storage, key)
        if found is not None:  # removed between listing and reading: not part of this backup
            entries.append({"key": key, "sha256": found[0], "bytes": found[1]})
    return entries


def _prepare_empty(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    if any(output.iterdir()):
        raise BackupFailed(f"{output} is not empty: a backup goes into a directory of its own")


async def take_backup(settings: Settings, storage: ObjectStorage, output: Path) -> dict[str, Any]:
    """Dump the database and write the manifest into `output` (created; it must be empty)."""
    if not settings.database_backup_url:
        raise BackupFailed("DATABASE_BACKUP_URL is not set (a role with BYPASSRLS and pg_read_all_data)")
    _prepare_empty(output)
    connection = libpq(settings.database_backup_url)
    engine = create_engine(settings.database_backup_url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            repository = BackupRepository(session)
            snapshot = await repository.export_snapshot()
            counts = await repository.table_counts()
            version = await repository.server_version()
            # The snapshot lives as long as this transaction: pg_dump runs while it is open.
            await _run(
                "pg_dump",
                settings,
                [
                    *connection.args,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={output / DUMP}",
                    connection.database,
                ],
                _environment(connection.env),
            )
    finally:
        await engine.dispose()
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": {
            "dump": DUMP,
            "sha256": _file_sha256(output / DUMP),
            "bytes": (output / DUMP).stat().st_size,
            "server_version": version,
            "tables": counts,
        },
        "objects": await object_manifest(storage),
    }
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that the dump beside it is the one it describes."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupFailed(f"cannot read {source / MANIFEST}: {error}") from error
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupFailed(f"unknown manifest format {manifest.get('format')!r}")
    dump = source / manifest["database"]["dump"]
    if not dump.is_file() or _file_sha256(dump) != manifest["database"]["sha256"]:
        raise BackupFailed(f"{dump} is missing or does not match the manifest's SHA-256")
    return manifest


async def restore(settings: Settings, storage: ObjectStorage, source: Path, target_url: str) -> RestoreReport:
    """Restore the backup in `source` into the empty database of `target_url`, then verify it."""
    manifest = read_manifest(source)
    connection = libpq(target_url)
    await _run(
        "pg_restore",
        settings,
        [
            *connection.args,
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.database}",
            str(source / manifest["database"]["dump"]),
        ],
        _environment(connection.env),
    )
    return await verify_restored(storage, target_url, manifest)


async def _audit_chains(sessions: async_sessionmaker[AsyncSession], report: RestoreReport) -> None:
    async with sessions() as session, session.begin():
        tenants = [(tenant.id, tenant.code) for tenant in await BackupRepository(session).tenants()]
    for tenant_id, code in tenants:
        async with sessions() as session, session.begin():
            await set_tenant(session, tenant_id)
            result = await verify_chain(session)
        detail = (
            f"{result.events_checked} events" if result.ok else f"broken at seq {result.broken_seq}: {result.problem}"
        )
        report.add(f"audit chain {code}", result.ok, detail)


async def verify_restored(storage: ObjectStorage, target_url: str, manifest: dict[str, Any]) -> RestoreReport:
    """Compare a restored database and the object store with the backup's manifest."""
    report = RestoreReport()
    engine = create_engine(target_url, pool_size=1)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session, session.begin():
            repository = BackupRepository(session)
            counts = await repository.table_counts()
            documents = await repository.documents()
        expected = manifest["database"]["tables"]
        differing = {name: (expected.get(name), counts.get(name)) for name in expected.keys() | counts.keys()}
        differing = {name: pair for name, pair in differing.items() if pair[0] != pair[1]}
        report.add(
            "row counts",
            not differing,
            f"{len(counts)} tables, {sum(counts.values())} rows"
            if not differing
            else "; ".join(f"{name}: backup {pair[0]}, restored {pair[1]}" for name, pair in sorted(differing.items())),
        )
        await _audit_chains(sessions, report)
    finally:
        await engine.dispose()
    digests: dict[str, str | None] = {}

    async def digest_of(key: str) -> str | None:
        if key not in digests:
            found = await object_digest(storage, key)
            digests[key] = found[0] if found else None
        return digests[key]

    bad_documents = [doc.object_key for doc in documents if await digest_of(doc.object_key) != doc.sha256]
    report.add(
        "document checksums",
        not bad_documents,
        f"{len(documents)} documents match their objects"
        if not bad_documents
        else f"{len(bad_documents)} missing or altered: {', '.join(bad_documents[:5])}",
    )
    bad_objects = [entry["key"] for entry in manifest["objects"] if await digest_of(entry["key"]) != entry["sha256"]]
    report.add(
        "object manifest",
        not bad_objects,
        f"{len(manifest['objects'])} objects present with their checksums"
        if not bad_objects
        else f"{len(bad_objects)} missing or altered: {', '.join(bad_objects[:5])}",
    )
    return report
