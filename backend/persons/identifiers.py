"""A person's identifiers: the resident ID number (身份证号码) and the phone number.

They are stored only as ciphertext plus a keyed lookup digest (backend/core/crypto.py): the digest serves the
unique index and exact search, the ciphertext the few views that show a number. They leave the registry masked,
except on the detail view for holders of person.read_identifiers (backend/persons/service.py `person_read`).
Nothing here touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from backend.core.clock import china_today
from backend.core.crypto import personal_data_cipher
from backend.models import Person
from backend.persons.errors import InvalidResidentId
from backend.persons.resident_id import ResidentId, mask_phone, mask_resident_id, parse_resident_id

RESIDENT_ID_CONTEXT = "person.resident_id"
PHONE_CONTEXT = "person.phone"
# The identifier fields of a person, with the crypto context of each: the audit diff redacts them.
CONTEXTS = {"resident_id": RESIDENT_ID_CONTEXT, "phone": PHONE_CONTEXT}
REDACTED_FIELDS = frozenset(CONTEXTS)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
_SUBSCRIBER = re.compile(r"[2-9][0-9]{6,7}")
_COUNTRY_PREFIX = re.compile(r"^(?:\+|00)86")
_PHONE_SEPARATORS = re.compile(r"[\s()\-]+")


def normalise_phone(raw: str) -> str | None:
    """The stored form of a mainland phone number, or None when it is not one.

    Mobile numbers (1[3-9] + 9 digits) become 11 digits; landlines become `area-subscriber` (`0571-87654321`,
    area code 0 + 2-3 digits, subscriber 7-8 digits not starting with 0 or 1); a local number without area
    code stays as its 7-8 digits. Full-width digits, spaces, hyphens, brackets and a +86/0086 prefix are
    accepted on input.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _COUNTRY_PREFIX.sub("", text)
    groups = [group for group in _PHONE_SEPARATORS.split(text) if group]
    digits = "".join(groups)
    if not digits.isascii() or not digits.isdigit():
        return None
    if _MOBILE.fullmatch(digits):
        return digits
    if digits.startswith("0"):
        if len(groups) > 1 and _AREA_CODE.fullmatch(groups[0]):
            area, subscriber = groups[0], "".join(groups[1:])
        else:
            split = 3 if digits[:2] in ("01", "02") else 4
            area, subscriber = digits[:split], digits[split:]
        if _AREA_CODE.fullmatch(area) and _SUBSCRIBER.fullmatch(subscriber):
            return f"{area}-{subscriber}"
        return None
    if _SUBSCRIBER.fullmatch(digits):
        return digits
    return None


def resident_id_digest(number: str) -> str:
    """The keyed lookup digest of a normalised ID number (what the unique index and exact search use)."""
    return personal_data_cipher().lookup_hash(number, context=RESIDENT_ID_CONTEXT)


def phone_digest(phone: str) -> str:
    """The keyed lookup digest of a normalised phone number."""
    return personal_data_cipher().lookup_hash(phone, context=PHONE_CONTEXT)


def digest(name: str, value: str | None) -> str | None:
    """The lookup digest of the identifier `name` ("resident_id" or "phone"), None for no value."""
    return personal_data_cipher().lookup_hash(value, context=CONTEXTS[name]) if value is not None else None


def resident_id_of(person: Person) -> str | None:
    """The person's ID number in clear, or None."""
    return _decrypt(person.resident_id_ciphertext, RESIDENT_ID_CONTEXT)


def phone_of(person: Person) -> str | None:
    """The person's phone number in clear, or None."""
    return _decrypt(person.phone_ciphertext, PHONE_CONTEXT)


def masked_identifiers(person: Person) -> tuple[str | None, str | None]:
    """(ID number, phone number) masked for display, as every list shows them."""
    resident_id, phone = resident_id_of(person), phone_of(person)
    return (
        mask_resident_id(resident_id) if resident_id is not None else None,
        mask_phone(phone) if phone is not None else None,
    )


def _decrypt(ciphertext: bytes | None, context: str) -> str | None:
    return personal_data_cipher().decrypt(ciphertext, context=context) if ciphertext is not None else None


def set_identifiers(person: Person, clean: Mapping[str, Any]) -> None:
    """Encrypt the identifiers present in `clean` onto the row (None clears one)."""
    cipher = personal_data_cipher()
    for name, context in CONTEXTS.items():
        if name not in clean:
            continue
        value = clean[name]
        setattr(person, f"{name}_ciphertext", cipher.encrypt(value, context=context) if value is not None else None)
        setattr(person, f"{name}_hash", digest(name, value))


def parsed_resident_id(person: Person) -> ResidentId | None:
    """The person's stored number, parsed; None if there is none (or, for an old record, it no longer parses)."""
    number = resident_id_of(person)
    if number is None:
        return None
    try:
        return parse_resident_id(number, today=china_today())
    except InvalidResidentId:
        return None


# A merge moves an identifier as its ciphertext and digest together; the other fields are plain columns.


def field_value(person: Person, name: str) -> Any:
    """What a merge compares for field `name`: an identifier's digest, any other field's value."""
    return getattr(person, f"{name}_hash") if name in CONTEXTS else getattr(person, name)


def copy_field(source: Person, target: Person, name: str) -> None:
    """Copy field `name` from one record to another (an identifier with its ciphertext and digest)."""
    for column in (f"{name}_ciphertext", f"{name}_hash") if name in CONTEXTS else (name,):
        setattr(target, column, getattr(source, column))


def clear_field(target: Person, name: str) -> None:
    """Empty field `name` (an identifier's ciphertext and digest together)."""
    for column in (f"{name}_ciphertext", f"{name}_hash") if name in CONTEXTS else (name,):
        setattr(target, column, None)
