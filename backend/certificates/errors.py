"""Typed errors of the certificate register. Messages are bilingual: Chinese first, then English."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


def problem(field: str, msg: str) -> FieldError:
    """A problem with one body field."""
    return FieldError(("body", field), msg)


class CertificateNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("婚育证明不存在 / Certificate not found")


class PersonNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("人员不存在 / Person not found")


class CertificateRejected(InvalidInput):
    """Fields of a certificate request break the rules; every problem is listed, naming its field. With a single
    problem, `detail` repeats its message so a client showing only the detail still tells the officer why."""

    def __init__(self, problems: list[FieldError]) -> None:
        count = len(problems)
        detail = (
            problems[0].msg if count == 1 else f"婚育证明信息有 {count} 处错误 / The certificate has {count} problems"
        )
        super().__init__(detail, problems)


class NumberTaken(Conflict):
    def __init__(self, number: str) -> None:
        super().__init__(
            f"本县已有编号为 {number} 的婚育证明 / A certificate numbered {number} already exists in this county",
            code="CERTIFICATE_NUMBER_TAKEN",
            fields=[problem("number", "编号已存在 / number already used")],
        )


class CertificateStateConflict(Conflict):
    """The certificate's (or holder's) state does not allow the operation; `detail` says why.

    Codes: CERTIFICATE_NOT_IN_FORCE, CERTIFICATE_IN_FORCE, RENEWAL_TOO_EARLY, RENEWAL_NOT_NEEDED, PERSON_MERGED.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason, code=code)
