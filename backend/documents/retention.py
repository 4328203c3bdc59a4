"""Retention periods (保存期限) per document kind, and when a document may be destroyed.

Defaults below; a deployment overrides any kind with the setting `document_retention_years`
(e.g. `DOCUMENT_RETENTION_YEARS='{"id_card": 5}'`). A document's `retain_until` is fixed when it is stored
(upload day + period); the retention report lists the documents past it, and an administrator approves
each destruction. Nothing is ever deleted automatically.
"""

from __future__ import annotations

from datetime import date

from backend.config import Settings
from backend.models import DocumentKind

DEFAULT_RETENTION_YEARS: dict[DocumentKind, int] = {
    DocumentKind.id_card: 3,
    DocumentKind.marriage_certificate: 10,
    DocumentKind.marriage_birth_certificate: 10,
    DocumentKind.check_report: 5,
    DocumentKind.agreement: 10,
    DocumentKind.contact_evidence: 5,
    DocumentKind.other: 3,
    DocumentKind.issued: 30,
    DocumentKind.signature: 5,
}


def retention_years(settings: Settings, kind: DocumentKind) -> int:
    """The configured period for `kind`, else the default."""
    return int(settings.document_retention_years.get(kind.value, DEFAULT_RETENTION_YEARS[kind]))


def retain_until_for(settings: Settings, kind: DocumentKind, stored_on: date) -> date:
    """The last day a document of `kind` stored on `stored_on` must be kept (29 February → 28 February)."""
    years = retention_years(settings, kind)
    try:
        return stored_on.replace(year=stored_on.year + years)
    except ValueError:
        return stored_on.replace(year=stored_on.year + years, day=28)
