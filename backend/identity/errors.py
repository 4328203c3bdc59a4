from __future__ import annotations

from backend.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized

# One message for every sign-in failure: it must not tell a wrong username from a wrong password or a lock.
LOGIN_FAILED = "用户名或密码错误，或账号暂时被锁定 / Wrong username or password, or the account is temporarily locked"


class LoginFailed(Unauthorized):
    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED)


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("用户不存在 / User not found")


class UsernameTaken(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"用户名 {username} 已存在 / Username {username} is taken",
            code="USERNAME_TAKEN",
            fields=[FieldError(("body", "username"), "用户名已存在 / username is taken")],
        )


class WeakPassword(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("密码不符合要求 / Password rejected", [FieldError(("body", field), reason)])


class WrongCurrentPassword(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "当前密码不正确 / The current password is wrong",
            [FieldError(("body", "current_password"), "当前密码不正确 / wrong current password")],
        )


class InvalidGrant(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("授权不符合要求 / Role grant rejected", [FieldError(("body", field), reason)])


class GrantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("授权不存在 / Grant not found")


class CsrfRejected(InvalidInput):
    def __init__(self) -> None:
        super().__init__("页面已过期，请刷新后重试 / The form expired; reload the page and try again")
        self.status_code = 403
        self.code = "CSRF_REJECTED"


class SelfGrantRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("不能给自己授予角色 / You cannot grant a role to yourself")
        self.code = "SELF_GRANT"


class SecondAdministratorRequired(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "须由另一位管理员批准（申请人和被授权人都不能批准） / Another administrator must decide (not the one who "
            "asked, nor the user it is for)"
        )
        self.code = "SECOND_ADMINISTRATOR_REQUIRED"


class AdministratorRequired(Conflict):
    """The change would leave the county without an active administrator, or lock the caller out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="ADMINISTRATOR_REQUIRED")


class GrantRequestNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("授权申请不存在或已处理 / Grant request not found or already decided")
