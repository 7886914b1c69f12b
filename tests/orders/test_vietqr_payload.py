"""VietQR payloads (orders.payments.vietqr_payload): pure functions, no database."""

import io

import pytest
from PIL import Image

from orders.payments.vietqr_payload import (
    Transfer,
    build_payload,
    crc16_ccitt,
    parse_payload,
    qr_png,
    qr_svg,
    read_transfer,
)

VCB = {"bank_bin": "970436", "account": "0011001234567"}  # Vietcombank

# Expected payload for VCB, 125 000 đ, note "CN-3011-4821", written out field by field from the
# TLV rules (ID, 2-digit length, value) so it does not come from the code under test. The CRC was
# computed separately with CRC-16/CCITT-FALSE over everything up to and including "6304".
ORDER_PAYLOAD = (
    "000201"  # 00 payload format indicator "01"
    "010212"  # 01 point of initiation "12": dynamic
    "3857"  # 38 merchant account information, 57 characters:
    "0010A000000727"  # 00 GUID of NAPAS
    "0127"  # 01 beneficiary organisation, 27 characters:
    "0006970436"  # 00 bank BIN
    "01130011001234567"  # 01 account number (13)
    "0208QRIBFTTA"  # 02 service: transfer to an account
    "5303704"  # 53 currency VND
    "5406125000"  # 54 amount
    "5802VN"  # 58 country
    "6216"  # 62 additional data, 16 characters:
    "0812CN-3011-4821"  # 08 purpose of transaction = the note
    "630424AE"  # 63 CRC
)

# The dynamic IBFT-to-account example of NAPAS's "Technical Specifications on NAPAS QR Switching,
# Part IV: QR code format" v1.5.2 (January 2021), as reproduced in many open-source VietQR libraries'
# tests; its CRC 2E2E was recomputed here. It also carries 62/01 (bill number "NPS6869"), which
# build_payload does not write, so it is a parsing vector.
NAPAS_DYNAMIC = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
# The same transfer without the terminal label, as printed in the README of the npm package
# `dynamic-vietqr` (CRC recomputed here, and it matches).
DYNAMIC_NO_LABEL = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62230819thanh toan don hang63045FAB"
)
# The static IBFT-to-account example (the same account, no amount, no note), the vector used by
# several open-source VietQR libraries (dynamic-vietqr, PHP and Swift ones); CRC recomputed here.
STATIC = "00020101021138570010A00000072701270006970403011300110123456780208QRIBFTTA53037045802VN63049E6F"


def test_crc_check_value():
    assert crc16_ccitt(b"123456789") == 0x29B1
    assert crc16_ccitt(b"") == 0xFFFF


def test_order_payload_matches_hand_built_string():
    payload = build_payload(**VCB, amount=125000, note="CN-3011-4821")
    assert payload == ORDER_PAYLOAD
    assert f"{crc16_ccitt(payload[:-4].encode()):04X}" == payload[-4:]


def test_order_payload_reads_back():
    payload = build_payload(**VCB, amount=125000, note="CN-3011-4821")
    assert read_transfer(payload) == Transfer("970436", "0011001234567", 125000, "CN-3011-4821")
    fields = parse_payload(payload)
    assert fields["01"] == "12"
    assert fields["38"] == {
        "00": "A000000727",
        "01": {"00": "970436", "01": "0011001234567"},
        "02": "QRIBFTTA",
    }
    assert (fields["53"], fields["54"], fields["58"]) == ("704", "125000", "VN")
    assert fields["62"] == {"08": "CN-3011-4821"}
    assert list(fields)[-1] == "63"


@pytest.mark.parametrize("position, char", [(-10, "9"), (86, "7")])
def test_tampering_breaks_the_crc(position, char):
    # Position -10 is inside the note and 86 inside the amount: the TLV stays well formed.
    assert ORDER_PAYLOAD[position] != char
    tampered = ORDER_PAYLOAD[:position] + char + ORDER_PAYLOAD[position + 1 :]
    with pytest.raises(ValueError, match="bad CRC"):
        parse_payload(tampered)


def test_tampered_crc_is_refused():
    with pytest.raises(ValueError, match="bad CRC"):
        parse_payload(ORDER_PAYLOAD[:-1] + "F")


def test_vietnamese_note_is_folded_to_ascii_and_cut_to_25():
    payload = build_payload(**VCB, amount=125000, note="Đơn hàng CN-3011-4821 rau sạch")
    note = read_transfer(payload).note
    assert note == "Don hang CN-3011-4821 rau"
    assert len(note) == 25 and note.isascii()
    assert payload.isascii()


def test_note_keeps_only_letters_digits_spaces_and_dashes():
    payload = build_payload(**VCB, amount=1000, note="  Đặt #CN/42:  ưu đãi!  ")
    assert read_transfer(payload).note == "Dat CN 42 uu dai"


def test_empty_note_leaves_out_additional_data():
    payload = build_payload(**VCB, amount=1000, note="!!!")
    assert "62" not in parse_payload(payload)
    assert read_transfer(payload).note == ""


@pytest.mark.parametrize("bank_bin", ["97043", "9704366", "97O436", "", "９７０４３６", 970436])
def test_bad_bin(bank_bin):
    with pytest.raises(ValueError, match="BIN"):
        build_payload(bank_bin=bank_bin, account="0011001234567", amount=1000, note="x")


@pytest.mark.parametrize("account", ["", "1" * 20, "0011 0012", "001-100", "tài123", "12\n"])
def test_bad_account(account):
    with pytest.raises(ValueError, match="account"):
        build_payload(bank_bin="970436", account=account, amount=1000, note="x")


@pytest.mark.parametrize("amount", [0, -5, 10**13, 1000.0, "1000", True])
def test_bad_amount(amount):
    with pytest.raises(ValueError, match="amount"):
        build_payload(**VCB, amount=amount, note="x")


def test_largest_amount_is_13_digits():
    payload = build_payload(**VCB, amount=10**13 - 1, note="x")
    assert read_transfer(payload).amount == 9_999_999_999_999


def test_static_form_has_no_amount():
    payload = build_payload(**VCB, amount=None, note="CN-3011-4821")
    fields = parse_payload(payload)
    assert payload.startswith("000201010211")
    assert fields["01"] == "11"
    assert "54" not in fields
    assert read_transfer(payload).amount is None


def test_merchant_name_and_city_only_when_given():
    plain = parse_payload(build_payload(**VCB, amount=1000, note="x"))
    assert "59" not in plain and "60" not in plain
    named = parse_payload(
        build_payload(**VCB, amount=1000, note="x", merchant_name="Chợ Nổi", city="Cần Thơ")
    )
    assert (named["59"], named["60"]) == ("Cho Noi", "Can Tho")
    with pytest.raises(ValueError, match="city"):
        build_payload(**VCB, amount=1000, note="x", city="Thành phố Hồ Chí Minh")


def test_napas_spec_example_parses():
    fields = parse_payload(NAPAS_DYNAMIC)
    assert fields["62"] == {"01": "NPS6869", "08": "thanh toan don hang"}
    assert read_transfer(NAPAS_DYNAMIC) == Transfer("970403", "0011012345678", 180000, "thanh toan don hang")


def test_published_vectors_are_reproduced():
    args = {"bank_bin": "970403", "account": "0011012345678"}
    assert build_payload(**args, amount=180000, note="thanh toan don hang") == DYNAMIC_NO_LABEL
    assert build_payload(**args, amount=None, note="") == STATIC
    assert read_transfer(STATIC) == Transfer("970403", "0011012345678", None, "")


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "0002",  # value shorter than its length
        "000201010212",  # no CRC
        "0102120002016304ABCD",  # does not start with 00
        "00020100020163041234",  # field 00 twice
        "0002016304",  # CRC without its value
        "0002016304GHIJ",  # CRC not hex
        "0A0201",  # ID not digits
        # A valid CRC (F4E5) over a wrong inner length: 12 for the 13-digit account, which leaves a
        # stray "8" in 38/01. Reportedly the static example as printed in the NAPAS spec.
        "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5",
    ],
)
def test_malformed_payloads_are_refused(payload):
    with pytest.raises(ValueError):
        parse_payload(payload)


def test_read_transfer_refuses_other_services():
    # Transfer to a card (QRIBFTTC) rather than an account, from the same README.
    card = (
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTC"
        "530370454061800005802VN62230819thanh toan don hang630415C1"
    )
    assert parse_payload(card)["38"]["02"] == "QRIBFTTC"
    with pytest.raises(ValueError, match="QRIBFTTA"):
        read_transfer(card)


def test_png_is_an_image():
    png = qr_png(ORDER_PAYLOAD)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.size[0] == image.size[1] > 100


def test_svg_is_a_document():
    svg = qr_svg(ORDER_PAYLOAD)
    assert isinstance(svg, str)
    assert svg.lstrip().startswith(("<svg", "<?xml")) and svg.rstrip().endswith("</svg>")
