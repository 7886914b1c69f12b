"""Farms API shapes: households public and private, listings, units, categories, certificates, trace."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from farms import services
from farms.models import Certification, CertificationStatus
from marketplace.accounts.models import Role

from .factories import jpeg_upload, make_certification, make_farm, make_product, ward

pytestmark = pytest.mark.django_db

PUBLIC_FARM_KEYS = {
    "id",
    "name",
    "ward",
    "area_m2",
    "main_crops",
    "cooperative",
    "status",
    "verified_at",
    "certifications",
}
PRIVATE_FARM_KEYS = PUBLIC_FARM_KEYS | {
    "representative_name",
    "phone",
    "address",
    "cccd_last4",
    "status_changed_at",
    "created_at",
    "decisions",
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def scene(make_user):
    official_in = make_user(Role.OFFICIAL, full_name="Lê Minh Tâm", wards=[ward(0)], city_wide=False)
    farm = make_farm(make_user, official=official_in, ward=ward(0), cooperative="HTX Phong Điền")
    return {
        "farm": farm,
        "official_in": official_in,
        "official_out": make_user(Role.OFFICIAL, wards=[ward(1)], city_wide=False),
        "buyer": make_user(Role.BUYER),
        "other_farmer": make_farm(make_user, ward=ward(1), name="Hộ bà Ba").owner,
    }


def test_public_and_private_household_shapes(scene, api, api_as):
    farm = scene["farm"]
    url = f"/api/v1/farms/{farm.pk}/"
    for client in (api, api_as(scene["buyer"]), api_as(scene["official_out"]), api_as(scene["other_farmer"])):
        body = client.get(url).json()
        assert set(body) == PUBLIC_FARM_KEYS
        assert body["ward"] == {"code": ward(0).code, "name": ward(0).name}
        assert body["status"] == "verified"
        assert body["cooperative"] == "HTX Phong Điền"
    for client in (api_as(farm.owner), api_as(scene["official_in"])):
        body = client.get(url).json()
        assert set(body) == PRIVATE_FARM_KEYS
        assert body["representative_name"] == "Nguyễn Văn Tư"
        assert body["address"] == "Ấp Nhơn Lộc 1"
        assert body["cccd_last4"] == farm.cccd_last4 and len(body["cccd_last4"]) == 4
        assert [d["action"] for d in body["decisions"]] == ["approved", "submitted"]
        assert body["decisions"][0]["by"] == "Lê Minh Tâm"
        assert body["decisions"][0]["from_status"] == "pending"
        assert body["decisions"][0]["to_status"] == "verified"
    assert set(api.get("/api/v1/farms/").json()["results"][0]) == PUBLIC_FARM_KEYS
    assert set(api_as(farm.owner).get("/api/v1/my/farm/").json()) == PRIVATE_FARM_KEYS


def test_queue_is_scoped_paginated_and_oldest_first(make_user, api_as):
    official = make_user(Role.OFFICIAL, wards=[ward(0), ward(2)], city_wide=False)
    first = make_farm(make_user, verified=False, ward=ward(2), name="Hộ A")
    second = make_farm(make_user, verified=False, ward=ward(0), name="Hộ B")
    make_farm(make_user, verified=False, ward=ward(1), name="Hộ ngoài phạm vi")
    make_farm(make_user, ward=ward(0), name="Hộ đã duyệt")
    body = api_as(official).get("/api/v1/farms/queue/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [first.pk, second.pk]
    assert set(body["results"][0]) == PRIVATE_FARM_KEYS
    everywhere = api_as(make_user(Role.OFFICIAL)).get("/api/v1/farms/queue/?page_size=2").json()
    assert everywhere["count"] == 3 and everywhere["next"]


def test_verified_list_is_paginated_newest_first(make_user, api):
    older = make_farm(make_user, name="Hộ cũ")
    newer = make_farm(make_user, name="Hộ mới")
    make_farm(make_user, verified=False, name="Hộ chờ duyệt")
    body = api.get("/api/v1/farms/").json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]


def test_listing_shape_with_badges_lot_and_units(scene, api, api_as):
    farm = scene["farm"]
    certificate = make_certification(farm, kind="ocop", ocop_stars=4, number="OCOP-2025-17")
    services.certification_decide(certification=certificate, by=scene["official_in"], decision="approve")
    make_certification(farm, number="VG-PENDING")  # pending: no badge
    owner = api_as(farm.owner)
    created = owner.post(
        "/api/v1/products/",
        {
            "name": "Bưởi da xanh",
            "category": 202,
            "unit": "trai",
            "unit_weight_kg": 1.25,
            "price": "35000",
            "stock": 40,
            "min_order": "2",
            "harvest_date": "2026-11-20",
            "available_from": "2026-11-21",
            "available_until": "2026-12-31",
            "status": "active",
        },
    )
    assert created.status_code == 201, created.json()
    product = created.json()
    lot = owner.post(
        "/api/v1/lots/", {"product": product["id"], "harvest_date": "2026-11-20", "quantity": 300}
    ).json()
    attached = owner.patch(f"/api/v1/products/{product['id']}/", {"lot": lot["id"]})
    assert attached.status_code == 200, attached.json()

    body = api.get(f"/api/v1/products/{product['id']}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body == {
        "id": product["id"],
        "name": "Bưởi da xanh",
        "category": 202,
        "category_name": "Pomelo",
        "description": "",
        "farm": {"id": farm.pk, "name": farm.name, "ward": {"code": ward(0).code, "name": ward(0).name}},
        "unit": "trai",
        "unit_label": "piece of fruit",
        "unit_weight_kg": "1.250",
        "price": 35000,
        "stock": "40.000",
        "min_order": "2.000",
        "status": "active",
        "harvest_date": "2026-11-20",
        "available_from": "2026-11-21",
        "available_until": "2026-12-31",
        "lot": lot["id"],
        "lot_code": lot["code"],
        "images": [],
        "certifications": [
            {
                "kind": "ocop",
                "ocop_stars": 4,
                "label": "OCOP 4★",
                "expires_on": certificate.expires_on.isoformat(),
            }
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("+07:00")
    vi = api.get(f"/api/v1/products/{product['id']}/").json()
    assert vi["category_name"] == "Bưởi"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"unit": "trai", "unit_weight_kg": "0.3", "stock": "2.5"}, "stock"),
        ({"unit": "trai"}, "unit_weight_kg"),
        ({"stock": "1.2345"}, "stock"),
        ({"unit": "gallon"}, "unit"),
        ({"price": 0}, "price"),
        ({"price": 12.5}, "price"),
        ({"category": 999}, "category"),
        ({"available_from": "2026-12-10", "available_until": "2026-12-01"}, "available_until"),
        ({"status": "flying"}, "status"),
    ],
)
def test_listing_input_is_judged_with_field_messages(scene, api_as, fields, field):
    data = {"name": "Gạo ST25", "category": 101, "unit": "kg", "price": 32000, "stock": "100"}
    data.update(fields)
    response = api_as(scene["farm"].owner).post("/api/v1/products/", data)
    assert response.status_code == 400
    assert field in response.json()


def test_quantities_accept_numbers_and_strings(scene, api_as):
    owner = api_as(scene["farm"].owner)
    data = {"name": "Gạo ST25", "category": 101, "unit": "kg", "price": 32000}
    as_number = owner.post("/api/v1/products/", {**data, "stock": 12.5, "min_order": 0.5}).json()
    as_string = owner.post("/api/v1/products/", {**data, "stock": "12.500", "min_order": "0.5"}).json()
    assert (as_number["stock"], as_number["min_order"]) == ("12.500", "0.500")
    assert (as_string["stock"], as_string["min_order"]) == ("12.500", "0.500")


def test_categories_are_a_tree_in_the_request_language(api):
    vi = api.get("/api/v1/categories/").json()
    assert isinstance(vi, list)
    assert [c["id"] for c in vi] == [1, 2, 3, 4, 5, 6]
    fruit = vi[1]
    assert fruit["name"] == "Trái cây" and fruit["slug"] == "trai-cay"
    assert {"id": 201, "name": "Sầu riêng", "slug": "sau-rieng", "children": []} in fruit["children"]
    en = api.get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en[1]["name"] == "Fruit"
    assert en[1]["children"][0]["name"] == "Durian"


def test_units_list(api):
    units = {u["code"]: u for u in api.get("/api/v1/units/", HTTP_ACCEPT_LANGUAGE="en").json()}
    assert list(units) == ["kg", "yen", "ta", "trai", "chuc", "bo", "con", "hop", "tui"]
    assert units["kg"] == {"code": "kg", "label": "kg", "fractional": True, "needs_unit_weight": False}
    assert units["chuc"]["fractional"] is False and units["chuc"]["needs_unit_weight"] is True
    assert units["yen"]["label"] == "yen (10 kg)"


def test_certificate_upload_list_verify_and_download(scene, api_as):
    farm, official = scene["farm"], scene["official_in"]
    owner = api_as(farm.owner)
    today = timezone.localdate()
    pdf = SimpleUploadedFile("giay-chung-nhan.pdf", PDF, content_type="application/pdf")
    created = owner.post(
        "/api/v1/certifications/",
        {
            "kind": "vietgap",
            "number": "VG-092-0042",
            "issuer": "Trung tâm Chứng nhận Cần Thơ",
            "issued_on": (today - timedelta(days=100)).isoformat(),
            "expires_on": (today + timedelta(days=900)).isoformat(),
            "document": pdf,
        },
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    cert = created.json()
    assert cert["status"] == "pending"
    assert cert["farm"] == {"id": farm.pk, "name": farm.name}
    assert cert["label"] == "VietGAP"
    assert cert["document_type"] == "application/pdf"
    assert cert["document_url"] == f"http://testserver/api/v1/certifications/{cert['id']}/document/"
    assert cert["ocop_stars"] is None and cert["decided_at"] is None

    download = owner.get(f"/api/v1/certifications/{cert['id']}/document/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"

    checker = api_as(official)
    pending = checker.get("/api/v1/certifications/?status=pending").json()
    assert [row["id"] for row in pending["results"]] == [cert["id"]]
    assert checker.get("/api/v1/certifications/?status=verified").json()["count"] == 0
    assert checker.get("/api/v1/certifications/?status=nonsense").status_code == 400
    assert api_as(scene["official_out"]).get("/api/v1/certifications/").json()["count"] == 0

    no_reason = checker.post(f"/api/v1/certifications/{cert['id']}/verify/", {"decision": "reject"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    verified = checker.post(f"/api/v1/certifications/{cert['id']}/verify/", {"decision": "approve"})
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified" and verified.json()["decided_at"]
    again = checker.post(f"/api/v1/certifications/{cert['id']}/verify/", {"decision": "approve"})
    assert again.status_code == 409

    # The badge shows on the household and its listings; a verified certificate stays on record.
    product = make_product(farm, status="active")
    badge = api_as(scene["buyer"]).get(f"/api/v1/products/{product.pk}/").json()["certifications"]
    assert [b["label"] for b in badge] == ["VietGAP"]
    assert [b["label"] for b in owner.get(f"/api/v1/farms/{farm.pk}/").json()["certifications"]] == [
        "VietGAP"
    ]
    kept = owner.delete(f"/api/v1/certifications/{cert['id']}/")
    assert kept.status_code == 409
    assert kept.json()["code"] == "invalid_status"
    assert Certification.objects.filter(pk=cert["id"], status=CertificationStatus.VERIFIED).exists()


def test_certificate_input_errors_and_withdrawal(scene, api_as):
    owner = api_as(scene["farm"].owner)
    today = timezone.localdate()
    base = {
        "kind": "ocop",
        "number": "OCOP-1",
        "issuer": "UBND TP Cần Thơ",
        "issued_on": today.isoformat(),
        "expires_on": (today + timedelta(days=1000)).isoformat(),
    }
    no_stars = owner.post("/api/v1/certifications/", {**base, "document": jpeg_upload()}, format="multipart")
    assert no_stars.status_code == 400 and "ocop_stars" in no_stars.json()
    text = SimpleUploadedFile("cert.pdf", b"hello", content_type="application/pdf")
    bad_file = owner.post(
        "/api/v1/certifications/", {**base, "ocop_stars": 4, "document": text}, format="multipart"
    )
    assert bad_file.status_code == 400 and list(bad_file.json()) == ["document"]
    created = owner.post(
        "/api/v1/certifications/", {**base, "ocop_stars": "4", "document": jpeg_upload()}, format="multipart"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["label"] == "OCOP 4★"
    assert created.json()["document_type"] == "image/jpeg"
    assert owner.delete(f"/api/v1/certifications/{created.json()['id']}/").status_code == 204
    assert owner.get(f"/api/v1/certifications/{created.json()['id']}/").status_code == 404


def test_trace_is_public_and_carries_no_personal_data(scene, api, make_user):
    farm, official = scene["farm"], scene["official_in"]
    today = timezone.localdate()
    in_force = make_certification(farm, number="VG-IN-FORCE", issued_days_ago=100, days_left=500)
    services.certification_decide(certification=in_force, by=official, decision="approve")
    later = make_certification(farm, kind="organic", number="HC-LATER", issued_days_ago=1, days_left=500)
    services.certification_decide(certification=later, by=official, decision="approve")
    product = make_product(farm, name="Măng cụt Phong Điền", category=203)
    lot = services.lot_create(
        farm=farm,
        product=product,
        harvest_date=today - timedelta(days=10),
        quantity="75.5",
        practices="Bón phân hữu cơ",
    )
    body = api.get(f"/api/v1/trace/{lot.code.lower()}/").json()
    assert body == {
        "code": lot.code,
        "product": {"id": product.pk, "name": "Măng cụt Phong Điền", "category": "Măng cụt"},
        "farm": {"id": farm.pk, "name": farm.name},
        "ward": {"code": ward(0).code, "name": ward(0).name},
        "harvest_date": (today - timedelta(days=10)).isoformat(),
        "quantity": "75.500",
        "unit": "kg",
        "unit_label": "kg",
        "practices": "Bón phân hữu cơ",
        "certifications": [
            {
                "kind": "vietgap",
                "ocop_stars": None,
                "label": "VietGAP",
                "issuer": in_force.issuer,
                "issued_on": in_force.issued_on.isoformat(),
                "expires_on": in_force.expires_on.isoformat(),
            }
        ],
        "trace_url": f"http://testserver/t/{lot.code}",
    }
    text = str(body)
    for private in (
        farm.representative_name,
        farm.address,
        farm.phone,
        farm.phone[-9:],
        farm.owner.full_name,
    ):
        assert private not in text


def test_schema_documents_every_farms_endpoint(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in {
        "/api/v1/farms/": {"get", "post"},
        "/api/v1/farms/{id}/": {"get", "patch"},
        "/api/v1/farms/queue/": {"get"},
        "/api/v1/farms/{id}/verify/": {"post"},
        "/api/v1/products/{id}/images/": {"post"},
        "/api/v1/certifications/{id}/document/": {"get"},
        "/api/v1/lots/{id}/": {"get", "patch", "delete"},
        "/api/v1/trace/{code}/": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    schemas = response.json()["components"]["schemas"]
    register = paths["/api/v1/farms/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "cccd" in schemas[register["$ref"].rsplit("/", 1)[-1]]["properties"]
    edit = paths["/api/v1/farms/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert not schemas[edit["$ref"].rsplit("/", 1)[-1]].get("required")  # every field optional
    # The CCCD is write-only: no answer's schema names it.
    assert "cccd" not in schemas["FarmPrivate"]["properties"]
    assert "cccd_last4" in schemas["FarmPrivate"]["properties"]
    assert "multipart/form-data" in paths["/api/v1/products/{id}/images/"]["post"]["requestBody"]["content"]
