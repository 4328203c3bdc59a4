"""Callback URLs (issue #16, backend/core/outbound.py): https only outside development, never to this machine or
an internal network, a length limit with 422. The delivery-time re-check (DNS rebinding) is tested with a real
receiver in tests/backend/intake/test_webhooks.py."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from backend.config import Environment, Settings
from backend.core.outbound import OutboundPolicy, UnsafeOutboundUrl, install_outbound_policy, safe_outbound_url
from tests.security.conftest import Probe

STRICT = OutboundPolicy()


async def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


async def private(host: str, port: int) -> list[str]:
    return ["93.184.216.34", "10.1.2.3"]  # one internal address among public ones is enough to refuse


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # plain http outside development
        "https://127.0.0.1:8443/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://10.0.0.8/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.20/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://169.254.169.254/latest/meta-data",  # link-local: the cloud metadata address
        "https://224.0.0.1/hook",  # multicast
        "https://240.0.0.1/hook",  # reserved
        "https://0.0.0.0/hook",
        "https://user:secret@93.184.216.34/hook",
        "https:///no-host",
        "ftp://93.184.216.34/hook",
        "https://93.184.216.34/" + "a" * 600,
    ],
)
async def test_an_unsafe_callback_url_is_refused(url: str) -> None:
    with pytest.raises(UnsafeOutboundUrl):
        await safe_outbound_url(url, STRICT, resolve=public if "localhost" not in url else None)


async def test_a_name_with_one_internal_address_is_refused() -> None:
    with pytest.raises(UnsafeOutboundUrl) as refused:
        await safe_outbound_url("https://callbacks.police.example/hook", STRICT, resolve=private)
    assert "10.1.2.3" in refused.value.reason


async def test_a_public_https_url_is_pinned_to_its_address_with_the_name_kept() -> None:
    pinned = await safe_outbound_url("https://callbacks.police.example:8443/v1/hook?x=1", STRICT, resolve=public)
    assert pinned.url == "https://93.184.216.34:8443/v1/hook?x=1"
    assert pinned.headers == {"Host": "callbacks.police.example:8443"}
    assert pinned.extensions == {"sni_hostname": "callbacks.police.example"}


def test_plain_http_is_allowed_in_development_only() -> None:
    assert OutboundPolicy.from_settings(Settings(environment=Environment.development)).allow_http
    assert not OutboundPolicy.from_settings(Settings(environment=Environment.test)).allow_http


async def test_an_allowed_network_lets_a_county_intranet_address_through() -> None:
    policy = OutboundPolicy.of(allow_http=False, allowed_networks=["10.20.0.0/16"])
    assert (await safe_outbound_url("https://10.20.3.4/hook", policy)).address == "10.20.3.4"
    with pytest.raises(UnsafeOutboundUrl):
        await safe_outbound_url("https://10.21.3.4/hook", policy)


@pytest.fixture
def public_names(app: object) -> Iterator[None]:
    """Names resolve to a public address (no DNS in the sandbox); the app's strict policy stays."""
    install_outbound_policy(OutboundPolicy(), resolver=public)
    yield
    install_outbound_policy(OutboundPolicy())


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hooks", "https://127.0.0.1/hooks", "https://10.0.0.5/hooks", "http://callbacks.example/"],
)
async def test_a_department_cannot_point_its_callback_inside(
    admin: httpx.AsyncClient, app: object, public_names: None, url: str
) -> None:
    created = await admin.post(
        "/api/v1/admin/api-clients",
        json={"name": "公安人口系统", "department": "police", "scopes": ["intake:police", "intake:read_status"]},
    )
    client = created.json()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as police:
        token = await police.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        police.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        refused = await police.put("/api/v1/intake/webhook", json={"url": url})
        assert refused.status_code == 422, refused.text
        assert refused.json()["fields"][0]["loc"] == ["body", "url"]
        accepted = await police.put("/api/v1/intake/webhook", json={"url": "https://callbacks.police.example/h"})
        assert accepted.status_code == 200, accepted.text


async def test_an_api_client_callback_inside_is_refused(admin: httpx.AsyncClient, probe: Probe) -> None:
    response = await admin.post(
        "/api/v1/admin/api-clients",
        json={
            "name": "公安人口系统",
            "department": "police",
            "scopes": ["intake:police"],
            "webhook_url": "http://127.0.0.1:9000/hook",
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == ["body", "webhook_url"]
