"""Error pages for browsers: a friendly page in the user's language, never a stack trace."""

from __future__ import annotations

import httpx

from backend.config import Settings
from backend.main import create_app


async def test_an_unexpected_error_shows_the_friendly_500_page_without_internals(settings: Settings) -> None:
    application = create_app(settings)

    @application.get("/boom-page")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            chinese = await client.get("/boom-page", headers={"Accept": "text/html"})
            english = await client.get("/boom-page", headers={"Accept": "text/html"}, cookies={"lang": "en"})
    assert chinese.status_code == 500
    assert chinese.headers["content-type"].startswith("text/html")
    assert "系统暂时出错" in chinese.text
    assert english.status_code == 500 and 'lang="en"' in english.text
    for response in (chinese, english):
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text and "RuntimeError" not in response.text


async def test_a_signed_out_browser_is_sent_to_sign_in_and_back(settings: Settings) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/cases?due=overdue", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcases%3Fdue%3Doverdue"
