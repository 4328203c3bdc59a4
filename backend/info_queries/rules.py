"""The norm's rules for a population-information query (北京 2010, seeds-spec P19 and §6.2), pure.

- **Allowed purposes** (第五条) and the documents each needs (第六条);
- **what may be disclosed** (第七条) per purpose: organs and units the registered address only (「其他信息一律不得对外
  提供」); justice bodies also the family; private persons looking for relatives only with the subject's consent
  (「必须征得被查询人同意后」), the addresses and contact; lawyers
  「姓名、性别、年龄、户籍地址、民族、身份证号码、文化程度」 (education is not kept here); newborn-name checks and
  government departments statistics only (a count);
- the workflow 「审核、告知、登记、查询」 (第十条): documents reviewed, the requester told the duties and signing the
  application, then the query; the ledger kept 「保存期限2年」 (第十一条).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Purpose:
    label: str  # 中文 / English
    documents: tuple[str, ...]  # required, by code
    fields: tuple[str, ...]  # what may be told
    needs_consent: bool = False


DOCUMENTS: dict[str, str] = {
    "unit_letter": "单位介绍信 / letter of introduction",
    "work_id": "工作证、警官证或身份证 / work, officer or ID card",
    "law_firm_letter": "律师事务所介绍信 / law firm letter",
    "client_agreement": "委托协议（含复印件） / client agreement with copy",
    "lawyer_licence": "律师执业证（含复印件） / lawyer's licence with copy",
    "id_card": "居民身份证 / ID card",
    "birth_service_certificate": "生育服务证 / birth service certificate",
    "confidentiality_agreement": "保密协议书 / confidentiality agreement",
}
UNIT_DOCUMENTS = ("unit_letter", "work_id")
ADDRESS = ("registration_address",)
STATISTICS = ("count",)

PURPOSES: dict[str, Purpose] = {
    "vetting": Purpose("机关、部队政审 / political vetting", UNIT_DOCUMENTS, ADDRESS),
    "official_business": Purpose("企事业单位公务 / official business of a unit", UNIT_DOCUMENTS, ADDRESS),
    "justice": Purpose(
        "公检法、纪检办案 / police, procuratorate, court or discipline case",
        UNIT_DOCUMENTS,
        ("registration_address", "residence_address", "family"),
    ),
    "social_management": Purpose(
        "政府部门社会管理（统计） / social management by a department (statistics)",
        (*UNIT_DOCUMENTS, "confidentiality_agreement"),
        STATISTICS,
    ),
    "lawyer": Purpose(
        "律师办理法律事务 / a lawyer's legal matter",
        ("law_firm_letter", "client_agreement", "lawyer_licence", "id_card"),
        ("name", "sex", "age", "registration_address", "ethnicity", "resident_id"),
    ),
    "relatives": Purpose(
        "公民查找亲友 / a citizen looking for relatives or friends",
        ("id_card",),
        ("registration_address", "residence_address", "phone"),
        needs_consent=True,
    ),
    "newborn_name": Purpose(
        "新生儿重名查询（统计） / newborn duplicate-name check (count)",
        ("birth_service_certificate", "id_card"),
        STATISTICS,
    ),
}
RETENTION_YEARS = 2


def missing_documents(purpose: str, seen: list[str]) -> list[str]:
    """The documents the purpose needs that were not seen, by code."""
    return [code for code in PURPOSES[purpose].documents if code not in seen]
