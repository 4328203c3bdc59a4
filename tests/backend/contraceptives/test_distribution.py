"""Contraceptive distribution (避孕药具发放) through the API: the stock balance after receipts and issues, an issue
above the balance refused at its field with nothing written, each issue signed by its recipient (stored as her
document), the self-service box, the reconciliation's differences, the register, and reach."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from backend.core.clock import china_today
from backend.models import AuditEvent, ContraceptionMeasure, Document, DocumentKind, StockMovement
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, png, resident_id

TODAY = china_today()
SIGNATURE = "data:image/png;base64," + base64.b64encode(png()).decode()


async def point(client: httpx.AsyncClient, county: County, kind: str = "village_room", unit: str = "v11") -> str:
    response = await client.post(
        "/api/v1/contraceptives/points",
        json={"org_unit_code": county.units[unit], "name": f"一村服务室-{kind}", "kind": kind},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def receive(client: httpx.AsyncClient, point_id: str, product: str, quantity: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/contraceptives/points/{point_id}/receipts",
        json={"product": product, "quantity": quantity, "received_on": TODAY.isoformat(), "source": "县药具站"},
    )


async def issue(client: httpx.AsyncClient, point_id: str, **fields: Any) -> httpx.Response:
    body = {"product": "condom", "issued_on": TODAY.isoformat(), "signature": SIGNATURE} | fields
    return await client.post(f"/api/v1/contraceptives/points/{point_id}/issues", json=body)


async def test_the_balance_follows_receipts_and_issues(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    wang = await village.person(service_county, "王芳")
    li = await village.person(service_county, "李娜", number=resident_id(5))
    coordinator = await sign_in(service_county, "coord11")
    point_id = await point(coordinator, service_county)

    assert (await receive(coordinator, point_id, "condom", 100)).status_code == 201
    assert (await receive(coordinator, point_id, "oral_pill", 12)).status_code == 201
    first = await issue(coordinator, point_id, quantity=30, person_id=str(wang.id))
    second = await issue(coordinator, point_id, quantity=20, resident_id=resident_id(5))

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert (first.json()["balance_after"], second.json()["balance_after"]) == (70, 50)
    assert second.json()["person_id"] == str(li.id) and second.json()["person_name"] == "李娜"
    balances = (await coordinator.get(f"/api/v1/contraceptives/points/{point_id}")).json()["balances"]
    assert balances == {"condom": 50, "oral_pill": 12}
    movements = (await coordinator.get(f"/api/v1/contraceptives/points/{point_id}/movements")).json()
    assert [(m["kind"], m["product"], m["quantity"], m["balance_after"]) for m in reversed(movements)] == [
        ("received", "condom", 100, 100),
        ("received", "oral_pill", 12, 12),
        ("issued", "condom", 30, 70),
        ("issued", "condom", 20, 50),
    ]
    # Her signature is a PNG document of hers.
    (signature,) = await village.rows(
        service_county, select(Document).where(Document.id == first.json()["signature_document_id"])
    )
    assert (signature.owner_id, signature.kind, signature.media_type) == (wang.id, DocumentKind.signature, "image/png")


async def test_an_issue_above_the_balance_is_refused_at_the_quantity_and_nothing_is_written(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    wang = await village.person(service_county, "王芳")
    coordinator = await sign_in(service_county, "coord11")
    point_id = await point(coordinator, service_county)
    await receive(coordinator, point_id, "condom", 50)
    events_before = await village.rows(service_county, select(AuditEvent.id))

    refused = await issue(coordinator, point_id, quantity=60, person_id=str(wang.id))

    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {
            "loc": ["body", "quantity"],
            "msg": "库存不足：避孕套现有50，不能发放60 / not enough in stock: 50 left, cannot issue 60",
        }
    ]
    assert len(await village.rows(service_county, select(StockMovement))) == 1
    assert await village.rows(service_county, select(Document).where(Document.kind == DocumentKind.signature)) == []
    assert len(await village.rows(service_county, select(AuditEvent.id))) == len(events_before)
    balances = (await coordinator.get(f"/api/v1/contraceptives/points/{point_id}")).json()["balances"]
    assert balances == {"condom": 50}
    future = await issue(
        coordinator, point_id, quantity=1, person_id=str(wang.id), issued_on=(TODAY + timedelta(days=1)).isoformat()
    )
    assert future.status_code == 422 and future.json()["fields"][0]["loc"] == ["body", "issued_on"]


async def test_each_issue_needs_a_recipient_who_signs_but_a_self_service_box_does_not(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    wang = await village.person(service_county, "王芳")
    coordinator = await sign_in(service_county, "coord11")
    room = await point(coordinator, service_county)
    box = await point(coordinator, service_county, kind="self_service_box")
    for point_id in (room, box):
        await receive(coordinator, point_id, "condom", 10)

    unsigned = await issue(coordinator, room, quantity=1, person_id=str(wang.id), signature=None)
    nobody = await issue(coordinator, room, quantity=1)
    garbled = await issue(coordinator, room, quantity=1, person_id=str(wang.id), signature="data:image/png;base64,AAAA")
    assert unsigned.status_code == 422 and unsigned.json()["fields"][0]["loc"] == ["body", "signature"]
    assert nobody.status_code == 422 and nobody.json()["fields"][0]["loc"] == ["body", "person_id"]
    assert garbled.status_code == 422, garbled.text

    # A signed paper register's scan, uploaded for her, stands for the signature.
    scan = await coordinator.post(
        "/api/v1/documents",
        data={"owner_kind": "person", "owner_id": str(wang.id), "kind": "signature"},
        files={"file": ("签字登记.png", png(), "image/png")},
    )
    assert scan.status_code == 201, scan.text
    on_paper = await issue(
        coordinator, room, quantity=2, person_id=str(wang.id), signature=None, signed_scan_document_id=scan.json()["id"]
    )
    assert on_paper.status_code == 201, on_paper.text
    assert on_paper.json()["signature_document_id"] == scan.json()["id"]
    anonymous = await issue(coordinator, box, quantity=3, signature=None)
    assert anonymous.status_code == 201 and anonymous.json()["person_id"] is None


async def test_the_reconciliation_lists_who_uses_a_method_without_receiving_and_who_received_without_using_it(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    a = await village.person(service_county, "甲", measure=ContraceptionMeasure.condom)
    b = await village.person(service_county, "乙", measure=ContraceptionMeasure.iud)
    c = await village.person(service_county, "丙", measure=ContraceptionMeasure.condom)
    d = await village.person(service_county, "丁", measure=ContraceptionMeasure.pill)
    coordinator = await sign_in(service_county, "coord11")
    point_id = await point(coordinator, service_county)
    await receive(coordinator, point_id, "condom", 100)
    await receive(coordinator, point_id, "oral_pill", 10)
    for person, product, quantity in ((a, "condom", 30), (b, "condom", 20), (d, "oral_pill", 3)):
        response = await issue(coordinator, point_id, product=product, quantity=quantity, person_id=str(person.id))
        assert response.status_code == 201, response.text

    lines = (await coordinator.get("/api/v1/contraceptives/reconciliation")).json()
    summary = {
        line["product"]: (
            line["users"],
            line["recipients"],
            line["quantity_issued"],
            line["difference"],
            [person["name"] for person in line["users_without_issue"]],
            [person["name"] for person in line["recipients_not_users"]],
        )
        for line in lines
    }
    assert summary == {
        "condom": (2, 2, 50, 0, ["丙"], ["乙"]),
        "oral_pill": (1, 1, 3, 0, [], []),
    }
    assert {line["org_unit_code"] for line in lines} == {service_county.units["v11"]}
    assert c.id and d.id
    # A period before the issues: nobody received anything, every user is a difference.
    earlier = (
        await coordinator.get(
            "/api/v1/contraceptives/reconciliation", params={"period_to": (TODAY - timedelta(days=1)).isoformat()}
        )
    ).json()
    assert {line["product"]: (line["recipients"], line["difference"]) for line in earlier} == {
        "condom": (0, -2),
        "oral_pill": (0, -1),
    }


async def test_the_issue_register_and_reach(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    wang = await village.person(service_county, "王芳", number=resident_id(9))
    coordinator = await sign_in(service_county, "coord11")
    point_id = await point(coordinator, service_county)
    await receive(coordinator, point_id, "condom", 10)
    assert (await issue(coordinator, point_id, quantity=4, person_id=str(wang.id))).status_code == 201

    (row,) = (await coordinator.get("/api/v1/registers/contraceptive-issues")).json()["items"]
    assert (row["recipient"], row["product"], row["quantity"], row["signed"], row["point"]) == (
        "王芳",
        "避孕套",
        4,
        "已签字",
        "一村服务室-village_room",
    )
    assert row["resident_id"].count("*") == 8  # masked for a coordinator

    sibling = await sign_in(service_county, "coord12")
    auditor = await sign_in(service_county, "auditor")
    stranger = await sign_in(other_county, "county_officer")
    assert (await sibling.get(f"/api/v1/contraceptives/points/{point_id}")).status_code == 404
    assert (await issue(sibling, point_id, quantity=1, person_id=str(wang.id))).status_code == 404
    assert (await auditor.get(f"/api/v1/contraceptives/points/{point_id}")).status_code == 200
    assert (await receive(auditor, point_id, "condom", 1)).status_code == 403
    assert (await stranger.get(f"/api/v1/contraceptives/points/{point_id}")).status_code == 404
    assert (await stranger.get("/api/v1/contraceptives/points")).json() == []
    # A point in a unit out of reach cannot be created.
    refused = await sibling.post(
        "/api/v1/contraceptives/points",
        json={"org_unit_code": service_county.units["v11"], "name": "越界", "kind": "market"},
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "org_unit_code"]
