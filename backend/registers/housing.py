"""The rental-housing registers (以房管人, spec P24, 「四个一」), declared like every register: 《房屋出租户登记表》
(rental-houses: each house with its owner, business type, door plate, tenants now and last walk) and
《暂住人口情况登记簿》 (tenancies: each tenant or employee with where and from when to when)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.authz.vocabulary import Action
from backend.housing.repository import HouseRepository, OccupancyRepository
from backend.models import BusinessType, Employer, Occupancy, OccupancyKind, Person, RentalHouse
from backend.registers import labels
from backend.registers.definitions import Column, Entry, EntryContext, Register
from backend.registers.repository import RegisterRow
from backend.registers.village import SERVICE_READ

BUSINESS_TYPE = {
    BusinessType.residential: "住宅出租",
    BusinessType.shop: "门店、商铺",
    BusinessType.factory_dormitory: "厂房、宿舍",
    BusinessType.mixed: "商住两用",
    BusinessType.other: "其他",
}


@dataclass(frozen=True, slots=True)
class HouseEntry(Entry):
    house: RentalHouse
    tenants: int
    unit_name: str


def house_entry(row: RegisterRow, context: EntryContext) -> HouseEntry:
    house: RentalHouse = row[0]
    return HouseEntry(
        unit_code=house.org_unit_code,
        ids=context.identifiers(None, (house.org_unit_code,), False),
        house=house,
        tenants=int(row[1] or 0),
        unit_name=context.unit_name(house.org_unit_code),
    )


RENTAL_HOUSES: Register[HouseEntry] = Register(
    code="rental-houses",
    title="房屋出租户登记表",
    entity_type="rental_house",
    read_actions=(Action.service_read,),
    query=lambda repository, register_filter: HouseRepository(repository.session).register(register_filter),
    entry=house_entry,
    columns=(
        Column("door_plate", "标记牌编号", lambda e: e.house.door_plate, 12),
        Column("address", "房屋地址", lambda e: e.house.address, 28),
        Column("owner", "房主", lambda e: e.house.owner_name, 10),
        Column("business_type", "生产经营类别", lambda e: BUSINESS_TYPE[e.house.business_type], 12),
        Column("tenants", "在住人数", lambda e: e.tenants, 8),
        Column("agreement", "责任书", lambda e: "已签订" if e.house.agreement_id else "未签订", 8),
        Column("last_visited_on", "最近清查走访", lambda e: e.house.last_visited_on, 12),
        Column("status", "状态", lambda e: "在用" if e.house.active else "停用", 6),
        Column("unit", "所属单位", lambda e: e.unit_name, 16),
    ),
)


@dataclass(frozen=True, slots=True)
class OccupancyEntry(Entry):
    occupancy: Occupancy
    person: Person
    house: RentalHouse | None
    employer: Employer | None
    unit_name: str


def occupancy_entry(row: RegisterRow, context: EntryContext) -> OccupancyEntry:
    occupancy: Occupancy = row[0]
    person: Person = row[1]
    return OccupancyEntry(
        unit_code=occupancy.org_unit_code,
        ids=context.identifiers(person, (occupancy.org_unit_code, person.org_unit_code), True),
        occupancy=occupancy,
        person=person,
        house=row[2],
        employer=row[3],
        unit_name=context.unit_name(occupancy.org_unit_code),
    )


def _place(entry: OccupancyEntry) -> str:
    if entry.house is not None:
        plate = f"（{entry.house.door_plate}）" if entry.house.door_plate else ""
        return f"{entry.house.address}{plate}"
    return entry.employer.name if entry.employer is not None else ""


TENANCIES: Register[OccupancyEntry] = Register(
    code="tenancies",
    title="暂住人口情况登记簿",
    entity_type="occupancy",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: OccupancyRepository(repository.session).register(register_filter),
    entry=occupancy_entry,
    columns=(
        Column("name", "姓名", lambda e: e.person.name, 10),
        Column("sex", "性别", lambda e: labels.SEX[e.person.sex], 6),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("kind", "类别", lambda e: "租住" if e.occupancy.kind is OccupancyKind.tenant else "务工", 6),
        Column("place", "住所或用工单位", _place, 28),
        Column("moved_in_on", "入住（入职）日期", lambda e: e.occupancy.moved_in_on, 14),
        Column("moved_out_on", "迁出（离职）日期", lambda e: e.occupancy.moved_out_on, 14),
        Column("status", "状态", lambda e: "已注销" if e.occupancy.moved_out_on else "在住", 8),
        Column("phone", "联系电话", lambda e: e.ids.phone, 16),
        Column("unit", "所属单位", lambda e: e.unit_name, 16),
    ),
)

HOUSING_REGISTERS: tuple[Register[Any], ...] = (RENTAL_HOUSES, TENANCIES)
