"""Department API clients: client-credentials tokens; expired, tampered, wrong-scope, rotated and revoked
tokens are refused without saying why."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.core.clock import clock
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
def moved_clock() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    return county


@pytest.fixture
async def admin(county: County, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in(county, "admin")


async def _new_client(admin: httpx.AsyncClient, scopes: list[str] | None = None) -> dict[str, str]:
    response = await admin.post(
        "/api/v1/admin/api-clients",
        json={
            "name": "西湖公安分局人口系统",
            "department": "police",
            "scopes": scopes or ["intake:police", "intake:read_status"],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _token(api: httpx.AsyncClient, client: dict[str, str], scope: str | None = None) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    if scope:
        data["scope"] = scope
    return await api.post("/api/v1/oauth/token", data=data)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestIssuing:
    async def test_secret_is_shown_once_and_stored_hashed(self, admin: httpx.AsyncClient) -> None:
        client = await _new_client(admin)
        assert len(client["client_secret"]) > 30
        listed = (await admin.get("/api/v1/admin/api-clients")).json()
        assert all("client_secret" not in item for item in listed)

    async def test_client_credentials_token(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        client = await _new_client(admin)
        response = await _token(api, client)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900
        me = await api.get("/api/v1/auth/me", headers=_bearer(body["access_token"]))
        assert me.json()["kind"] == "api_client"

    async def test_basic_auth_works_too(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        client = await _new_client(admin)
        basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        response = await api.post(
            "/api/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200

    async def test_wrong_secret_and_unknown_client_are_the_same_401(
        self, api: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        client = await _new_client(admin)
        wrong = await _token(api, {**client, "client_secret": "x" * 43})
        unknown = await _token(api, {**client, "client_id": "999999-abcdef"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    async def test_scope_beyond_the_client_is_refused(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        client = await _new_client(admin, ["intake:read_status"])
        response = await _token(api, client, scope="intake:police")
        assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")

    async def test_department_cannot_take_another_departments_scope(self, admin: httpx.AsyncClient) -> None:
        response = await admin.post(
            "/api/v1/admin/api-clients", json={"name": "x", "department": "health", "scopes": ["intake:police"]}
        )
        assert response.status_code == 422
        assert response.json()["fields"][0]["loc"] == ["body", "scopes.0"]

    async def test_unsupported_grant_type(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/api/v1/oauth/token", data={"grant_type": "password"})
        assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


class TestOAuthDetails:
    """RFC 6749 §5.1-5.2 on the token endpoint and RFC 8414 metadata, for integrators' OAuth2 libraries."""

    async def test_a_token_answer_is_never_cached(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        response = await _token(api, await _new_client(admin))
        assert response.status_code == 200
        assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")

    @pytest.mark.parametrize(
        ("data", "status", "error"),
        [
            ({}, 400, "invalid_request"),
            ({"grant_type": "password"}, 400, "unsupported_grant_type"),
            ({"grant_type": "client_credentials"}, 401, "invalid_client"),
            ({"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}, 401, "invalid_client"),
        ],
    )
    async def test_errors_carry_error_and_error_description_and_are_not_cached(
        self, api: httpx.AsyncClient, data: dict[str, str], status: int, error: str
    ) -> None:
        response = await api.post("/api/v1/oauth/token", data=data)
        body = response.json()
        assert (response.status_code, body["error"]) == (status, error)
        assert body["error_description"] == body["detail"] and " / " in body["detail"]
        assert response.headers["cache-control"] == "no-store"

    async def test_a_scope_refusal_is_invalid_scope_with_a_description(
        self, api: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        client = await _new_client(admin, ["intake:read_status"])
        body = (await _token(api, client, scope="intake:police")).json()
        assert body["error"] == "invalid_scope" and "scope" in body["error_description"]

    async def test_metadata_names_the_issuer_the_token_endpoint_and_what_it_accepts(
        self, api: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        response = await api.get("/.well-known/oauth-authorization-server")
        assert response.status_code == 200
        metadata = response.json()
        assert metadata["token_endpoint"] == metadata["issuer"] + "/api/v1/oauth/token"
        assert metadata["grant_types_supported"] == ["client_credentials"]
        assert set(metadata["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
        assert "intake:police" in metadata["scopes_supported"]
        # The advertised endpoint is the one that answers.
        path = metadata["token_endpoint"].removeprefix(metadata["issuer"])
        client = await _new_client(admin)
        issued = await api.post(
            path,
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        assert issued.status_code == 200


class TestRefusedTokens:
    async def _valid(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> tuple[dict[str, str], str]:
        client = await _new_client(admin)
        token = (await _token(api, client)).json()["access_token"]
        # Used once first: the verified signature is then cached, and every refusal below must still happen.
        assert (await api.get("/api/v1/auth/me", headers=_bearer(token))).status_code == 200
        return client, token

    async def _refusal(self, api: httpx.AsyncClient, token: str) -> dict[str, object]:
        response = await api.get("/api/v1/auth/me", headers=_bearer(token))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        return response.json()  # type: ignore[no-any-return]

    async def test_expired(self, api: httpx.AsyncClient, admin: httpx.AsyncClient, moved_clock: None) -> None:
        _, token = await self._valid(api, admin)
        clock.advance(timedelta(minutes=16))
        body = await self._refusal(api, token)
        assert body["error"] == "invalid_token"

    async def test_tampered_payload_and_signature(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        _, token = await self._valid(api, admin)
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["scope"] = "intake:police intake:health"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        first = await self._refusal(api, f"{header}.{forged}.{signature}")
        # Two changed characters at the end (a signature may already end in "AA": then "BB").
        tampered = signature[:-2] + ("BB" if signature.endswith("AA") else "AA")
        second = await self._refusal(api, f"{header}.{payload}.{tampered}")
        assert first == second  # no detail about what was wrong

    async def test_revoked(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        client, token = await self._valid(api, admin)
        assert (await admin.post(f"/api/v1/admin/api-clients/{client['id']}/revoke")).status_code == 200
        await self._refusal(api, token)
        assert (await _token(api, client)).status_code == 401

    async def test_rotated_secret_invalidates_old_tokens(
        self, api: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        client, token = await self._valid(api, admin)
        rotated = (await admin.post(f"/api/v1/admin/api-clients/{client['id']}/rotate")).json()
        await self._refusal(api, token)
        assert (await _token(api, client)).status_code == 401
        assert (await _token(api, {**client, "client_secret": rotated["client_secret"]})).status_code == 200

    async def test_wrong_scope_for_the_route_is_403(self, api: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        _, token = await self._valid(api, admin)
        response = await api.get("/api/v1/org-units", headers=_bearer(token))
        assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")
        users = await api.get("/api/v1/admin/users", headers=_bearer(token))
        assert users.status_code == 403

    async def test_other_countys_admin_cannot_see_or_revoke_the_client(
        self, admin: httpx.AsyncClient, database: Database, tenant_factory: TenantFactory, sign_in: SignIn
    ) -> None:
        client = await _new_client(admin)
        other = await build_county(database, tenant_factory)
        await add_user(database, other, "admin", "county", [(Role.county_admin, "county")])
        other_admin = await sign_in(other, "admin")
        assert client["id"] not in {c["id"] for c in (await other_admin.get("/api/v1/admin/api-clients")).json()}
        assert (await other_admin.post(f"/api/v1/admin/api-clients/{client['id']}/revoke")).status_code == 404


class TestInstanceWideClients:
    async def test_platform_registers_a_client_for_every_county(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str], admin: httpx.AsyncClient
    ) -> None:
        response = await api.post(
            "/api/v1/platform/api-clients",
            headers=platform_headers,
            json={"name": "省公安厅人口信息平台", "department": "police", "scopes": ["intake:police"]},
        )
        assert response.status_code == 201, response.text
        client = response.json()
        assert client["client_id"].startswith("platform-")
        token = (await _token(api, client)).json()["access_token"]
        me = (await api.get("/api/v1/auth/me", headers=_bearer(token))).json()
        assert (me["kind"], me["tenant_code"]) == ("api_client", None)
        # A county admin neither sees nor manages instance-wide clients.
        listed = {item["id"] for item in (await admin.get("/api/v1/admin/api-clients")).json()}
        assert client["id"] not in listed
        assert (await admin.post(f"/api/v1/admin/api-clients/{client['id']}/revoke")).status_code == 404

    async def test_county_users_cannot_use_the_platform_endpoints(self, admin: httpx.AsyncClient) -> None:
        response = await admin.post(
            "/api/v1/platform/api-clients", json={"name": "x", "department": "police", "scopes": ["intake:police"]}
        )
        assert response.status_code == 403
