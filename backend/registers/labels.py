"""Chinese labels for the enum values that appear in register cells (the registers are printed in Chinese)."""

from __future__ import annotations

from backend.models import (
    CaseOutcome,
    CaseStage,
    CertificateStatus,
    ContraceptionMeasure,
    MaritalStatus,
    PersonStatus,
    Sex,
)

SEX = {Sex.male: "男", Sex.female: "女"}

MARITAL_STATUS = {
    MaritalStatus.unmarried: "未婚",
    MaritalStatus.first_marriage: "初婚",
    MaritalStatus.remarried: "再婚",
    MaritalStatus.divorced: "离婚",
    MaritalStatus.widowed: "丧偶",
}

CONTRACEPTION = {
    ContraceptionMeasure.none: "未避孕",
    ContraceptionMeasure.iud: "上环",
    ContraceptionMeasure.sterilisation: "绝育",
    ContraceptionMeasure.implant: "皮埋",
    ContraceptionMeasure.injection: "针剂",
    ContraceptionMeasure.pill: "口服药",
    ContraceptionMeasure.condom: "避孕套",
    ContraceptionMeasure.other: "其他",
}

# 在册: on the register; 已注销: left the county, kept on the register as history. Merged duplicates never show.
PERSON_STATUS = {PersonStatus.active: "在册", PersonStatus.departed: "已注销", PersonStatus.merged: "已合并"}

CERTIFICATE_STATUS = {
    CertificateStatus.valid: "有效",
    CertificateStatus.expired: "已过期",
    CertificateStatus.renewed: "已换领",
    CertificateStatus.revoked: "已作废",
}

CASE_STAGE = {
    CaseStage.registration: "登记",
    CaseStage.verification: "核查/协查",
    CaseStage.service_delivery: "服务办理",
    CaseStage.follow_up: "随访",
    CaseStage.audit: "审核",
    CaseStage.closed: "办结",
}

CASE_OUTCOME = {
    CaseOutcome.registered: "予以登记",
    CaseOutcome.deferred: "暂缓登记",
    CaseOutcome.refused: "不予登记",
    CaseOutcome.completed: "服务完成",
    CaseOutcome.withdrawn: "申请人撤回",
    CaseOutcome.no_action: "核实后无需处理",
}

# The part a person plays in a case (case_subjects.part); unknown parts are shown as written.
SUBJECT_PART = {"applicant": "申请人", "spouse": "配偶", "child": "子女", "subject": "当事人"}

PERMANENT = "长期有效"
YES, NO = "是", "否"
