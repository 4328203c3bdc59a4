"""Typed errors of the cases domain, each carrying its HTTP status."""

from __future__ import annotations

from typing import Any

from backend.core.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound


class CaseNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("案件不存在 / Case not found")


INVALID_CASE = "案件数据有误 / Invalid case"


class InvalidCase(InvalidInput):
    def __init__(self, field: str, reason: str, detail: str = INVALID_CASE) -> None:
        super().__init__(detail, [FieldError(("body", field), reason)])


class SubjectsRefused(InvalidInput):
    """Subjects that name no registered person in the caller's reach (or one person twice), each at its field."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(INVALID_CASE, problems)


class CaseChanged(Conflict):
    """A second officer saved over a version she had not seen: 409 with what changed since her version."""

    def __init__(self, current: dict[str, Any], changed: dict[str, Any], changed_by: list[str]) -> None:
        super().__init__(
            "案件已被他人修改，请核对后重试 / Someone else changed this case; review the changes and retry",
            code="STALE_VERSION",
        )
        self.extra = {"current": current, "changed": changed, "changed_by": changed_by}


class IllegalTransition(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(f"无法变更办理阶段：{reason}", code="ILLEGAL_TRANSITION")


class SpouseVerificationMissing(Conflict):
    """P04: a first-child registration is decided only after both spouses' registration townships were asked
    (see backend/verification/gating.py). Names the spouses still missing one."""

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        names = "、".join(item["name"] for item in missing)
        super().__init__(
            f"一孩生育服务登记须先向夫妻双方户籍地乡镇（街道）发出协查，以下配偶尚未发出：{names} / "
            f"first-child registration needs verification requests to both spouses' registration townships; "
            f"not yet sent for: {names}",
            code="SPOUSE_VERIFICATION_MISSING",
        )
        self.extra = {"missing": missing}


class RegistrationNoticeMissing(Conflict):
    """P04: a first-child registration is closed as registered only after both spouses' registration townships
    were notified of it (see backend/verification/gating.py). Names the spouses whose township was not."""

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        names = "、".join(item["name"] for item in missing)
        super().__init__(
            f"一孩生育服务登记须在15个工作日内向夫妻双方户籍地乡镇（街道）通报，以下配偶的户籍地尚未通报：{names} / "
            f"a first-child registration must be notified to both spouses' registration townships within 15 working "
            f"days; not yet notified for: {names}",
            code="REGISTRATION_NOTICE_MISSING",
        )
        self.extra = {"missing": missing}


class NotRegistrationCounty(Conflict):
    """P05: only a unit of the woman's registration county decides a re-birth approval."""

    def __init__(self, county_code: str, registration_county: str | None, woman: str | None) -> None:
        if woman is None:
            zh, en = "案件未列明女方", "the case names no woman"
        elif registration_county is None:
            zh, en = f"{woman}的户籍地不详", f"{woman}'s registration place is unknown"
        else:
            zh, en = f"{woman}的户籍地在{registration_county}", f"{woman} is registered in {registration_county}"
        super().__init__(
            f"再生育审批由女方户籍地负责审批，本县（{county_code}）不能作出审批决定：{zh} / a re-birth approval is "
            f"decided by the woman's registration place; this county ({county_code}) cannot decide it: {en}",
            code="NOT_REGISTRATION_COUNTY",
        )
        self.extra = {"county_code": county_code, "registration_county": registration_county}


class SameSigner(Conflict):
    """A maker-checker chain needs a different person for each step (谁调查、谁负责;谁审核、谁负责;谁签字、谁负责)."""

    def __init__(self, signed: tuple[str, str], step: tuple[str, str]) -> None:
        super().__init__(
            f"同一人不能签署同一案件的两个步骤：您已签署「{signed[0]}」，「{step[0]}」须由他人签署 / "
            f"one person cannot sign two steps of one case: you signed {signed[1]}; {step[1]} must be signed by "
            "someone else",
            code="SAME_SIGNER",
        )


class SignerNotEntitled(DomainError):
    """The caller may work on the case but holds no grant for the step's part (reviewer, signer ...)."""

    def __init__(self, role: tuple[str, str], step: tuple[str, str]) -> None:
        super().__init__(
            detail=f"您不能作为{role[0]}签署「{step[0]}」 / you cannot sign {step[1]} as the {role[1].lower()}",
            status_code=403,
            code="SIGNER_NOT_ENTITLED",
        )
