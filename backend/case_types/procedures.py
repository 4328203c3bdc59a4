"""The case types of the accountable procedures (issue #22), shipped beside the national norm's in
`definitions.py`: the rewards and preferential policies (奖励优惠, seeds-spec P17), each decided through a
three-signature chain.

「采取自下而上和自上而下原则,落实责任终身追究制,做到"谁调查、谁负责","谁审核、谁负责","谁签字、谁负责"」 [003 范文3]:
the investigator (a case worker of the unit: `case.write`) signs the investigation in the verification stage; the
reviewer (a supervisor: `case.assign`) and then the signer (a holder of `case.approve`) sign in the audit stage,
three different people. The signer's signature approves the reward (the case closes as registered). The working
days of each step are the platform's defaults: the seeds set no number (only a yearly cut-off, 「4月25日前已审批
上报」 [001#10]).
"""

from __future__ import annotations

from backend.authz.vocabulary import Action
from backend.case_types.types import (
    ONLY_CHILD_REWARD,
    RURAL_REWARD_ASSISTANCE,
    SPECIAL_ASSISTANCE,
    CaseTypeDefinition,
    SignoffStep,
)
from backend.models import CaseStage

S = CaseStage

INVESTIGATE = SignoffStep(
    "investigate",
    "调查 / Investigate",
    "调查人 / Investigator",
    S.verification,
    Action.case_write,
    10,
    "本人已入户调查核实，申报内容与调查结果一致，对调查结论负责（谁调查、谁负责）/ I investigated in person; the "
    "application matches what I found, and I answer for the investigation",
)
REVIEW = SignoffStep(
    "review",
    "审核 / Review",
    "审核人 / Reviewer",
    S.audit,
    Action.case_assign,
    5,
    "本人已审核申报材料和调查结论，符合奖励扶助条件，对审核结论负责（谁审核、谁负责）/ I reviewed the application and "
    "the investigation; the conditions are met, and I answer for the review",
)
SIGN = SignoffStep(
    "sign",
    "签字 / Sign",
    "签字人 / Signer",
    S.audit,
    Action.case_approve,
    5,
    "本人同意予以批准，对批准决定负责（谁签字、谁负责）/ I approve it and answer for the decision",
)
REWARD_CHAIN = (INVESTIGATE, REVIEW, SIGN)
REWARD_STAGES = (S.verification, S.audit, S.closed)


PROCEDURE_CASE_TYPES: tuple[CaseTypeDefinition, ...] = (
    CaseTypeDefinition(
        ONLY_CHILD_REWARD,
        "独生子女父母奖励 / Only-child parents' reward",
        REWARD_STAGES,
        required_documents=("id_card", "marriage_certificate", "only_child_certificate"),
        signoffs=REWARD_CHAIN,
        extra={"opened_through": "rewards"},
        note="户籍地乡镇审批，奖励金只发给符合条件的父母本人 / granted by the registration township, paid only to the "
        "entitled parents",
    ),
    CaseTypeDefinition(
        RURAL_REWARD_ASSISTANCE,
        "农村计划生育家庭奖励扶助 / Rural FP family reward assistance",
        REWARD_STAGES,
        required_documents=("id_card", "household_register"),
        signoffs=REWARD_CHAIN,
        extra={"opened_through": "rewards"},
        note="年满60周岁，只有一个子女或两个女孩（已落实绝育措施）；每人每月不低于80元 / "
        "aged 60 or more, one child or two daughters (sterilisation recorded); at least 80 yuan per person per month",
    ),
    CaseTypeDefinition(
        SPECIAL_ASSISTANCE,
        "计划生育家庭特别扶助 / FP family special assistance",
        REWARD_STAGES,
        required_documents=("id_card", "household_register", "death_or_disability_proof"),
        signoffs=REWARD_CHAIN,
        extra={"opened_through": "rewards"},
        note="独生子女死亡或伤残、女方年满49周岁；三级以上计划生育手术并发症人员 / "
        "the only child died or is disabled and the woman is 49 or older; people with grade-3+ FP-surgery "
        "complications",
    ),
)
