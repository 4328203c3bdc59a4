"""Issue once (签发一次): a page form that issues a document, a certificate or a case carries a one-time token
(`new_token()`), and its handler runs the work through `once()`. The first submit of a token does the work and
stores where it led; a second submit of the same form (a double click, the browser resubmitting, a retry after a
lost answer) leads there again and issues nothing. A refused submit (bad input) leaves the token unused, so the
corrected form can be sent again.

The token is stored when it is used, not when the form is shown: showing a form writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.submissions.errors import SubmissionRefused
from backend.submissions.repository import SubmissionRepository


def new_token() -> str:
    """A fresh token for a form about to be shown."""
    return str(uuid.uuid4())


def parse_token(raw: str) -> uuid.UUID | None:
    """The token a form sent back; None when it sent none (or not one of ours)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def once(
    session: AsyncSession,
    principal: Principal,
    token: uuid.UUID | None,
    purpose: str,
    perform: Callable[[], Awaitable[str]],
) -> str:
    """`perform()` (which answers where its result is shown) the first time `token` is submitted for `purpose`;
    that same place, without performing again, every later time. Without a token it just performs. Flushes, never
    commits: the caller's transaction keeps the token and the work together (both or neither)."""
    if token is None:
        return await perform()
    repository = SubmissionRepository(session)
    if not await repository.claim(token, principal.subject, purpose):
        earlier = await repository.by_token(token)
        if earlier is None or earlier.subject != principal.subject or earlier.purpose != purpose:
            raise SubmissionRefused()
        if earlier.done_url is None:  # the first submit is still running in a transaction that committed nothing
            raise SubmissionRefused()
        return earlier.done_url
    done_url = await perform()
    submission = await repository.by_token(token)
    assert submission is not None
    submission.done_url = done_url[:300]
    await session.flush()
    return done_url
