"""The queries of a backup and a restore check. They run on the backup role's connection, which bypasses
row-level security (it must see every county's rows to count and check them): never on the app role's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text

from backend.db.repository import Repository
from backend.models import Document, Tenant


@dataclass(frozen=True)
class StoredDocument:
    tenant_id: uuid.UUID
    object_key: str
    sha256: str


class BackupRepository(Repository):
    async def server_version(self) -> str:
        """The server's `server_version` (e.g. `18.1`), recorded in the manifest."""
        return str((await self.session.execute(text("SHOW server_version"))).scalar_one())

    async def table_counts(self) -> dict[str, int]:
        """Rows of every table of the public schema, all counties together (names from the catalog)."""
        names = (
            await self.session.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
                )
            )
        ).scalars()
        counts = {}
        for name in list(names):
            quoted = '"' + str(name).replace('"', '""') + '"'
            counts[str(name)] = int((await self.session.execute(text(f"SELECT count(*) FROM {quoted}"))).scalar_one())
        return counts

    async def tenants(self) -> list[Tenant]:
        """Every county on the instance, by code."""
        return await self.all(select(Tenant).order_by(Tenant.code))

    async def documents(self) -> list[StoredDocument]:
        """Every document row's object key and recorded SHA-256, all counties."""
        rows = await self.session.execute(
            select(Document.tenant_id, Document.object_key, Document.sha256).order_by(Document.object_key)
        )
        return [StoredDocument(tenant_id, key, digest) for tenant_id, key, digest in rows.all()]

    async def export_snapshot(self) -> str:
        """Export this REPEATABLE READ transaction's snapshot for pg_dump --snapshot: the dump and the counts
        in the manifest then describe the same instant, however busy the instance is."""
        return str((await self.session.execute(text("SELECT pg_export_snapshot()"))).scalar_one())
