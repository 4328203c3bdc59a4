"""The object storage (and settings) the documents domain works with: one per process.

`create_app` installs the store built from its settings (`install_document_storage`); services ask for them
with `document_storage()` / `document_settings()`, so other domains can call `issue_document` without
carrying a store around. Tests install a store of each driver, with their own limits, for one test.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.config import Settings, get_settings
from backend.core.storage import ObjectStorage, build_storage


@dataclass
class _Installed:
    storage: ObjectStorage | None = None
    settings: Settings | None = None
    ready: bool = False


_installed = _Installed()


def install_document_storage(storage: ObjectStorage | None, settings: Settings | None = None) -> None:
    """Use `storage` and `settings` from now on (None: build from the process settings on first use)."""
    _installed.storage = storage
    _installed.settings = settings
    _installed.ready = False


def document_settings() -> Settings:
    """The settings installed with the store (upload limit, URL lifetime, retention, templates)."""
    return _installed.settings or get_settings()


async def document_storage() -> ObjectStorage:
    """The installed store; its bucket or directory is created on first use."""
    if _installed.storage is None:
        _installed.storage = build_storage(document_settings())
    if not _installed.ready:
        await _installed.storage.ensure_bucket()
        _installed.ready = True
    return _installed.storage
