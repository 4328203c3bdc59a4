"""The language switch goes back to the page its link was on (the pages send no Referer), never to another site."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI


@pytest.mark.parametrize(
    ("next_page", "lands_on"),
    [
        ("/cases?stage=verification&page=2", "/cases?stage=verification&page=2"),
        ("/persons/new", "/persons/new"),
        ("//evil.example/cases", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("cases", "/"),
    ],
)
async def test_the_switch_returns_to_the_page_on_this_site(app: FastAPI, next_page: str, lands_on: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/lang/en", params={"next": next_page})
    assert response.status_code == 303
    assert response.headers["location"] == lands_on
    assert "lang=en" in response.headers["set-cookie"]


async def test_every_page_links_the_switch_to_itself(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        page = await client.get("/login?from=cases")
    assert 'href="/lang/en?next=/login%3Ffrom%3Dcases"' in page.text
