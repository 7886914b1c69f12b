"""VietQR payloads: build and read the text inside a Vietnamese bank-transfer QR code.

VietQR is NAPAS's profile of the EMVCo Merchant-Presented QR code (EMV QRCPS). The payload is a
string of TLV data objects, each written as a 2-digit ID, a 2-digit length and the value::

    00 02 01                 payload format indicator
    01 02 12                 point of initiation: "12" dynamic (amount set), "11" static
    38 ..                    merchant account information (template):
        00 10 A000000727         GUID of NAPAS
        01 ..                    beneficiary organisation (template):
            00 06 970436             acquirer (bank) BIN
            01 ..                    account number
        02 08 QRIBFTTA           service: 24/7 inter-bank fund transfer to an account
    53 03 704                currency, VND
    54 ..                    amount in whole đồng (only when set)
    58 02 VN                 country
    59 / 60                  merchant name / city (only when given)
    62 ..                    additional data (template): 08 purpose of transaction = the note
    63 04 XXXX               CRC-16/CCITT-FALSE over everything before it, "6304" included

A banking app that scans it fills in bank, account, amount and transfer note. This module is pure
(no Django, no database): `build_payload`, `parse_payload`, `read_transfer`, `qr_png`, `qr_svg`.
"""

import io
import re
import unicodedata
from dataclasses import dataclass

import qrcode
import qrcode.image.pil
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
NOTE_MAX = 25  # many banks cut a transfer note after 25 characters
NAME_MAX = 25  # EMVCo limits for the merchant name (59) and city (60)
CITY_MAX = 15
AMOUNT_MAX = 10**13 - 1  # 13 digits

# Templates whose value is itself a TLV list: at the root, and inside merchant information (38).
_ROOT_TEMPLATES = {"38", "62"}
_MERCHANT_TEMPLATES = {"01"}


@dataclass(frozen=True)
class Transfer:
    """What a VietQR transfer code asks for: where to, how much (None: the payer types it), why."""

    bank_bin: str
    account: str
    amount: int | None
    note: str


def crc16_ccitt(data: bytes) -> int:
    """Return the CRC-16/CCITT-FALSE of `data` (poly 0x1021, init 0xFFFF, unreflected, no xorout)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def fold_ascii(text: str) -> str:
    """Return `text` without accents (đ→d), keeping ASCII letters, digits, spaces and "-" only.

    Other characters become spaces; runs of spaces are collapsed and the ends trimmed.
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^A-Za-z0-9 -]", " ", text)
    return " ".join(text.split())


def _tlv(tag: str, value: str) -> str:
    if not 1 <= len(value) <= 99:
        raise ValueError(f"field {tag} must be 1 to 99 characters, not {len(value)}: {value!r}")
    return f"{tag}{len(value):02d}{value}"


def build_payload(
    *,
    bank_bin: str,
    account: str,
    amount: int | None,
    note: str,
    merchant_name: str = "",
    city: str = "",
) -> str:
    """Return the VietQR payload for a transfer of `amount` đồng to `account` at bank `bank_bin`.

    `amount` None makes a static code (the payer types the amount). `note` becomes the transfer
    note, folded to ASCII and cut to 25 characters; it is left out when nothing remains of it.
    Raise ValueError on a bad BIN, account, amount, name or city.
    """
    if not isinstance(bank_bin, str) or not re.fullmatch(r"[0-9]{6}", bank_bin):
        raise ValueError(f"bank BIN must be exactly 6 digits, not {bank_bin!r}")
    if not isinstance(account, str) or not re.fullmatch(r"[0-9A-Za-z]{1,19}", account):
        raise ValueError(f"account must be 1 to 19 ASCII letters or digits, not {account!r}")
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= AMOUNT_MAX
    ):
        raise ValueError(f"amount must be a whole number of đồng from 1 to 13 digits, not {amount!r}")
    note = fold_ascii(note)[:NOTE_MAX].rstrip()
    merchant_name, city = fold_ascii(merchant_name), fold_ascii(city)
    if len(merchant_name) > NAME_MAX:
        raise ValueError(f"merchant name must be at most {NAME_MAX} characters: {merchant_name!r}")
    if len(city) > CITY_MAX:
        raise ValueError(f"city must be at most {CITY_MAX} characters: {city!r}")

    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TO_ACCOUNT)
    fields = [
        _tlv("00", "01"),
        _tlv("01", "11" if amount is None else "12"),
        _tlv("38", merchant),
        _tlv("53", CURRENCY_VND),
        _tlv("54", str(amount)) if amount is not None else "",
        _tlv("58", COUNTRY_VN),
        _tlv("59", merchant_name) if merchant_name else "",
        _tlv("60", city) if city else "",
        _tlv("62", _tlv("08", note)) if note else "",
    ]
    body = "".join(fields) + "6304"
    return body + f"{crc16_ccitt(body.encode('ascii')):04X}"


def _split(text: str, where: str) -> dict[str, str]:
    """Split a TLV list into {ID: value}; raise ValueError if it is not one."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        head = text[i : i + 4]
        if len(head) < 4 or not head.isascii() or not head.isdigit():
            raise ValueError(f"malformed TLV in {where} at position {i}: {text[i : i + 4]!r}")
        tag, length = head[:2], int(head[2:])
        value = text[i + 4 : i + 4 + length]
        if length == 0 or len(value) < length:
            raise ValueError(f"malformed TLV in {where}: field {tag} has length {length}")
        if tag in fields:
            raise ValueError(f"malformed TLV in {where}: field {tag} appears twice")
        fields[tag] = value
        i += 4 + length
    return fields


def parse_payload(payload: str) -> dict:
    """Read an EMVCo/VietQR payload into {ID: value}, with templates 38 and 62 as nested dicts.

    Inside 38, the beneficiary organisation (01) is nested too. Raise ValueError when the TLV
    structure is malformed, the CRC is not the last field, or the CRC does not match.
    """
    fields = _split(payload, "payload")
    if next(iter(fields), None) != "00" or fields["00"] != "01":
        raise ValueError("payload must start with the payload format indicator 000201")
    if list(fields)[-1] != "63" or not re.fullmatch(r"[0-9A-Fa-f]{4}", fields["63"]):
        raise ValueError("payload must end with a CRC field 6304 and 4 hex digits")
    expected = crc16_ccitt(payload[:-4].encode("utf-8"))
    if int(fields["63"], 16) != expected:
        raise ValueError(f"bad CRC: payload says {fields['63']}, content gives {expected:04X}")
    for tag in _ROOT_TEMPLATES & fields.keys():
        fields[tag] = _split(fields[tag], f"field {tag}")
    merchant = fields.get("38", {})
    for tag in _MERCHANT_TEMPLATES & merchant.keys():
        merchant[tag] = _split(merchant[tag], f"field 38/{tag}")
    return fields


def read_transfer(payload: str) -> Transfer:
    """Return the account transfer a VietQR payload asks for; raise ValueError if it is not one."""
    fields = parse_payload(payload)
    merchant = fields.get("38", {})
    if merchant.get("00") != NAPAS_GUID or merchant.get("02") != SERVICE_TO_ACCOUNT:
        raise ValueError("not a VietQR transfer to an account (38: NAPAS GUID and QRIBFTTA)")
    if fields.get("53") != CURRENCY_VND:
        raise ValueError(f"currency must be {CURRENCY_VND} (VND), not {fields.get('53')!r}")
    beneficiary = merchant.get("01", {})
    if "00" not in beneficiary or "01" not in beneficiary:
        raise ValueError("VietQR beneficiary (38/01) must have a bank BIN and an account")
    amount = fields.get("54")
    if amount is not None and not (amount.isascii() and amount.isdigit()):
        raise ValueError(f"amount must be whole đồng, not {amount!r}")
    return Transfer(
        bank_bin=beneficiary["00"],
        account=beneficiary["01"],
        amount=int(amount) if amount is not None else None,
        note=fields.get("62", {}).get("08", ""),
    )


def _code(payload: str, box_size: int = 10) -> qrcode.QRCode:
    # Medium error correction, as farms.qr: survives a smudged print or a scratched screen.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_png(payload: str, *, box_size: int = 8) -> bytes:
    """Return the QR code of `payload` as PNG bytes."""
    out = io.BytesIO()
    _code(payload, box_size).make_image(image_factory=qrcode.image.pil.PilImage).save(out)
    return out.getvalue()


def qr_svg(payload: str) -> str:
    """Return the QR code of `payload` as a standalone SVG document."""
    image = _code(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="utf-8").decode("utf-8")
