"""Binding a volume (装订成卷): the manifest (JSON, the SHA-256 of every document object as stored) and the index
PDF (WeasyPrint, like the issued documents, in the Noto CJK fonts), both from the same list of entries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.core.clock import china_day
from backend.documents.issuing import weasyprint_module
from backend.models import Case, Document

TEMPLATES_DIR = Path(__file__).parent / "templates"

DOCUMENT_KIND_LABELS = {
    "id_card": "居民身份证",
    "marriage_certificate": "结婚证",
    "marriage_birth_certificate": "婚育证明",
    "check_report": "检查报告",
    "agreement": "责任书（协议）",
    "contact_evidence": "函件、传真、电话记录",
    "other": "其他材料",
    "issued": "签发文书",
    "signature": "签名",
}
OUTCOME_LABELS = {
    "registered": "予以登记",
    "deferred": "暂缓办理",
    "refused": "不予办理",
    "completed": "服务完成",
    "withdrawn": "撤回",
    "no_action": "核实后无需处理",
}


class DigestMismatch(Exception):
    """A stored document object is not the file its row recorded: the volume is not bound over it."""


@dataclass
class BoundDocument:
    id: str
    kind: str
    kind_label: str
    object_key: str
    media_type: str
    size_bytes: int
    sha256: str


@dataclass
class BoundCase:
    id: str
    number: str
    case_type: str
    type_label: str
    org_unit_code: str
    closed_on: str
    outcome: str | None
    outcome_label: str
    documents: list[BoundDocument] = field(default_factory=list)


def bound_document(document: Document, data: bytes) -> BoundDocument:
    """A document as the volume records it: the digest of the object as stored, checked against its row."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != document.sha256:
        raise DigestMismatch(f"{document.object_key}: stored {digest}, recorded {document.sha256}")
    kind = document.kind.value
    return BoundDocument(
        id=str(document.id),
        kind=kind,
        kind_label=DOCUMENT_KIND_LABELS.get(kind, kind),
        object_key=document.object_key,
        media_type=document.media_type,
        size_bytes=len(data),
        sha256=digest,
    )


def bound_case(case: Case, type_label: str, documents: list[BoundDocument]) -> BoundCase:
    """A closed case as the volume lists it: number, type, unit, day closed (China) and outcome; no names."""
    assert case.closed_at is not None
    outcome = case.outcome.value if case.outcome else None
    return BoundCase(
        id=str(case.id),
        number=case.number,
        case_type=case.case_type,
        type_label=type_label.split(" / ")[0],
        org_unit_code=case.org_unit_code,
        closed_on=china_day(case.closed_at).isoformat(),
        outcome=outcome,
        outcome_label=OUTCOME_LABELS.get(outcome or "", "—"),
        documents=documents,
    )


def manifest_bytes(header: dict[str, Any], cases: list[BoundCase]) -> bytes:
    """The manifest: the volume's header and every case with its documents' checksums, as UTF-8 JSON."""
    body = {**header, "cases": [_case_json(case) for case in cases]}
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def _case_json(case: BoundCase) -> dict[str, Any]:
    fields = ("id", "number", "case_type", "org_unit_code", "closed_on", "outcome")
    documents = [
        {name: getattr(document, name) for name in ("id", "kind", "object_key", "media_type", "size_bytes", "sha256")}
        for document in case.documents
    ]
    return {name: getattr(case, name) for name in fields} | {"documents": documents}


def index_pdf(
    *,
    county_name: str,
    unit_name: str,
    year: int,
    cases: list[BoundCase],
    built_at: datetime,
    retain_until: date,
) -> bytes:
    """The index of the volume as PDF (blocking: call in a worker thread)."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))
    html = environment.get_template("index.html").render(
        county_name=county_name,
        unit_name="" if unit_name == county_name else unit_name,
        year=year,
        cases=cases,
        document_count=sum(len(case.documents) for case in cases),
        built_on=china_day(built_at),
        retain_until=retain_until,
    )
    return bytes(weasyprint_module().HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf())
