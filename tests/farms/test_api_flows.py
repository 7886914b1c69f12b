"""Farms API flows: sign-up to a published listing with photos, verification, suspension, photos, lots."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from farms.models import FarmAction, ProductImage
from marketplace.accounts.models import Role
from tests.signup import api_sign_up

from .factories import make_farm, make_product, next_cccd, ward

pytestmark = pytest.mark.django_db


def small_jpeg(name="photo.jpg", color=(30, 140, 60), size=(400, 300)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def registration(**overrides) -> dict:
    data = {
        "name": "Hộ ông Tư Lành",
        "representative_name": "Nguyễn Văn Tư",
        "phone": "0912 345 001",
        "ward": ward(0).code,
        "address": "Ấp Nhơn Lộc 1",
        "area_m2": 5000,
        "main_crops": "măng cụt, chôm chôm",
        "cooperative": "HTX Măng cụt Phong Điền",
        "cccd": next_cccd(),
    }
    data.update(overrides)
    return data


def listing(**overrides) -> dict:
    data = {
        "name": "Măng cụt Phong Điền",
        "category": 203,
        "description": "Trái chín cây, hái buổi sáng.",
        "unit": "kg",
        "price": 48000,
        "stock": "120.5",
        "min_order": 2,
    }
    data.update(overrides)
    return data


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL, full_name="Lê Minh Tâm", wards=[ward(0)], city_wide=False)


def test_household_goes_from_sign_up_to_a_published_listing_with_two_photos(
    api, api_as, official, django_capture_on_commit_callbacks, sms_outbox
):
    signed_up = api_sign_up(
        api,
        sms_outbox,
        {
            "phone": "0912 345 001",
            "password": "an-honest-test-password",
            "full_name": "Nguyễn Văn Tư",
            "role": "farmer",
        },
    )
    assert signed_up.status_code == 201
    token = api.post("/api/v1/auth/token/", {"phone": "0912345001", "password": "an-honest-test-password"})
    farmer = APIClient()
    farmer.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    registered = farmer.post("/api/v1/farms/", registration())
    assert registered.status_code == 201
    farm = registered.json()
    assert farm["status"] == "pending"
    assert farm["ward"] == {"code": ward(0).code, "name": ward(0).name}
    assert farm["phone"] == "+84912345001"
    assert [d["action"] for d in farm["decisions"]] == ["submitted"]
    assert farmer.get("/api/v1/my/farm/").json()["id"] == farm["id"]

    # Not yet in the public list; in the official's queue.
    assert farm["id"] not in ids(api.get("/api/v1/farms/"))
    checker = api_as(official)
    assert ids(checker.get("/api/v1/farms/queue/")) == [farm["id"]]

    # A draft is fine while pending.
    draft = farmer.post("/api/v1/products/", listing())
    assert draft.status_code == 201, draft.json()
    product = draft.json()
    assert product["status"] == "draft"
    assert product["farm"]["id"] == farm["id"]
    assert (product["stock"], product["min_order"], product["price"]) == ("120.500", "2.000", 48000)

    approved = checker.post(f"/api/v1/farms/{farm['id']}/verify/", {"decision": "approve"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "verified"
    assert approved.json()["verified_at"]
    assert approved.json()["decisions"][0]["action"] == "approved"
    assert approved.json()["decisions"][0]["by"] == "Lê Minh Tâm"
    assert ids(checker.get("/api/v1/farms/queue/")) == []

    photos = []
    for color in ((200, 30, 30), (30, 30, 200)):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            uploaded = farmer.post(
                f"/api/v1/products/{product['id']}/images/",
                {"image": small_jpeg(color=color)},
                format="multipart",
            )
        assert uploaded.status_code == 201, uploaded.json()
        assert len(callbacks) == 1  # the resize task is queued after commit, not run inline
        image = uploaded.json()
        # Answered before the worker ran: processing, and only the original has a URL.
        assert image["status"] == "processing"
        assert image["urls"]["original"].startswith("http://testserver/media/")
        assert image["urls"]["thumb"] is None and image["urls"]["display"] is None
        assert (image["width"], image["height"]) == (400, 300)
        photos.append(image["id"])

    published = farmer.patch(f"/api/v1/products/{product['id']}/", {"status": "active"})
    assert published.status_code == 200, published.json()
    assert published.json()["status"] == "active"

    catalogue = api.get("/api/v1/products/")
    assert ids(catalogue) == [product["id"]]
    public = api.get(f"/api/v1/products/{product['id']}/").json()
    assert [img["id"] for img in public["images"]] == photos
    assert [img["position"] for img in public["images"]] == [0, 1]
    for img in public["images"]:
        # The worker has run: every stored size is served at an absolute URL.
        assert img["status"] == "ready"
        assert all(url.startswith("http://testserver/media/") for url in img["urls"].values())
    assert public["farm"] == {
        "id": farm["id"],
        "name": "Hộ ông Tư Lành",
        "ward": {"code": ward(0).code, "name": ward(0).name},
    }
    assert farm["id"] in ids(api.get("/api/v1/farms/"))


def test_an_unverified_household_cannot_publish(make_user, api_as):
    farm = make_farm(make_user, verified=False)
    farmer = api_as(farm.owner)
    refused = farmer.post("/api/v1/products/", listing(status="active"))
    assert refused.status_code == 409
    assert refused.json()["code"] == "farm_not_verified"
    assert refused.json()["field"] == "status"

    draft = farmer.post("/api/v1/products/", listing()).json()
    refused = farmer.patch(f"/api/v1/products/{draft['id']}/", {"status": "active"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "farm_not_verified"
    assert farmer.get(f"/api/v1/products/{draft['id']}/").json()["status"] == "draft"
    assert farmer.get("/api/v1/products/").json()["count"] == 0


def test_suspension_hides_listings_at_once_and_reinstatement_brings_them_back(
    make_user, api, api_as, official
):
    farm = make_farm(make_user, official=official)
    other = make_product(
        make_farm(make_user, name="Hộ bà Ba"), name="Gạo ST25", category=101, status="active"
    )
    product = make_product(farm, status="active")
    checker = api_as(official)
    assert set(ids(api.get("/api/v1/products/"))) == {product.pk, other.pk}

    missing_reason = checker.post(f"/api/v1/farms/{farm.pk}/suspend/", {})
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()

    suspended = checker.post(f"/api/v1/farms/{farm.pk}/suspend/", {"reason": "Bán hàng không đúng mô tả"})
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert ids(api.get("/api/v1/products/")) == [other.pk]
    assert api.get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert api_as(make_user(Role.BUYER)).get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert api.get(f"/api/v1/farms/{farm.pk}/").status_code == 404
    assert farm.pk not in ids(api.get("/api/v1/farms/"))
    # The owner still sees the listing, unchanged, and the reason on the household.
    owner = api_as(farm.owner)
    assert owner.get(f"/api/v1/products/{product.pk}/").json()["status"] == "active"
    assert owner.get("/api/v1/my/farm/").json()["decisions"][0]["reason"] == "Bán hàng không đúng mô tả"
    # Suspending twice is a state conflict.
    assert checker.post(f"/api/v1/farms/{farm.pk}/suspend/", {"reason": "x"}).status_code == 409

    reinstated = checker.post(f"/api/v1/farms/{farm.pk}/reinstate/", {})
    assert reinstated.status_code == 200
    assert reinstated.json()["status"] == "verified"
    assert set(ids(api.get("/api/v1/products/"))) == {product.pk, other.pk}
    assert api.get(f"/api/v1/products/{product.pk}/").status_code == 200


def test_a_rejected_household_corrects_and_resubmits(make_user, api_as, official):
    farm = make_farm(make_user, verified=False)
    checker, owner = api_as(official), api_as(farm.owner)

    no_reason = checker.post(f"/api/v1/farms/{farm.pk}/verify/", {"decision": "reject"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    bad_decision = checker.post(f"/api/v1/farms/{farm.pk}/verify/", {"decision": "maybe"})
    assert bad_decision.status_code == 400 and "decision" in bad_decision.json()

    rejected = checker.post(
        f"/api/v1/farms/{farm.pk}/verify/", {"decision": "reject", "reason": "Địa chỉ chưa rõ ấp"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    mine = owner.get("/api/v1/my/farm/").json()
    assert mine["decisions"][0] == {
        "action": "rejected",
        "from_status": "pending",
        "to_status": "rejected",
        "by": "Lê Minh Tâm",
        "at": mine["decisions"][0]["at"],
        "reason": "Địa chỉ chưa rõ ấp",
    }
    assert ids(checker.get("/api/v1/farms/queue/")) == []

    assert owner.patch(f"/api/v1/farms/{farm.pk}/", {"address": "Ấp Nhơn Lộc 2, tổ 5"}).status_code == 200
    resubmitted = owner.post(f"/api/v1/farms/{farm.pk}/resubmit/")
    assert resubmitted.status_code == 200
    assert resubmitted.json()["status"] == "pending"
    assert ids(checker.get("/api/v1/farms/queue/")) == [farm.pk]
    again = owner.post(f"/api/v1/farms/{farm.pk}/resubmit/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_status"
    # Verifying a household that is no longer pending is a conflict too.
    checker.post(f"/api/v1/farms/{farm.pk}/verify/", {"decision": "approve"})
    assert checker.post(f"/api/v1/farms/{farm.pk}/verify/", {"decision": "approve"}).status_code == 409


def test_editing_a_verified_households_name_sends_it_back_to_review(make_user, api, api_as, official):
    farm = make_farm(make_user)
    product = make_product(farm, status="active")
    owner = api_as(farm.owner)

    kept = owner.patch(f"/api/v1/farms/{farm.pk}/", {"main_crops": "sầu riêng Ri6", "area_m2": 8000})
    assert kept.status_code == 200
    assert kept.json()["status"] == "verified"
    assert ids(api.get("/api/v1/products/")) == [product.pk]

    renamed = owner.patch(f"/api/v1/farms/{farm.pk}/", {"name": "Vườn Út Hiền"})
    assert renamed.status_code == 200
    assert renamed.json()["status"] == "pending"
    assert renamed.json()["decisions"][0]["action"] == FarmAction.IDENTITY_CHANGED
    assert ids(api.get("/api/v1/products/")) == []
    assert api.get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert farm.pk not in ids(api.get("/api/v1/farms/"))
    assert ids(api_as(official).get("/api/v1/farms/queue/")) == [farm.pk]


def test_one_household_per_account_and_per_cccd(make_user, api_as):
    farmer = make_user(Role.FARMER)
    client = api_as(farmer)
    cccd = next_cccd()
    assert client.post("/api/v1/farms/", registration(cccd=cccd)).status_code == 201
    second = client.post("/api/v1/farms/", registration(cccd=next_cccd(), name="Hộ thứ hai"))
    assert second.status_code == 409
    assert second.json()["code"] == "farm_exists"

    same_person = api_as(make_user(Role.FARMER)).post("/api/v1/farms/", registration(cccd=cccd))
    assert same_person.status_code == 409
    assert same_person.json()["code"] == "cccd_in_use"
    assert same_person.json()["field"] == "cccd"


def test_registration_gives_field_messages(make_user, api_as):
    client = api_as(make_user(Role.FARMER))
    blank = client.post("/api/v1/farms/", registration(name="  ", address=""))
    assert blank.status_code == 400
    assert set(blank.json()) == {"name", "address"}
    # Values are judged by the service, every field at once.
    response = client.post("/api/v1/farms/", registration(ward="99999", cccd="12345", area_m2=0))
    assert response.status_code == 400
    assert set(response.json()) == {"ward", "cccd", "area_m2"}
    assert client.get("/api/v1/my/farm/").status_code == 404


def test_photos_reorder_delete_and_stop_at_eight(make_user, api_as, settings):
    farm = make_farm(make_user)
    product = make_product(farm)
    owner = api_as(farm.owner)
    url = f"/api/v1/products/{product.pk}/images/"
    uploaded = [owner.post(url, {"image": small_jpeg()}, format="multipart").json()["id"] for _ in range(3)]

    order = [uploaded[2], uploaded[0], uploaded[1]]
    reordered = owner.post(f"{url}order/", {"ids": order})
    assert reordered.status_code == 200
    assert [img["id"] for img in reordered.json()] == order
    assert [img["position"] for img in reordered.json()] == [0, 1, 2]
    assert [img["id"] for img in owner.get(f"/api/v1/products/{product.pk}/").json()["images"]] == order

    incomplete = owner.post(f"{url}order/", {"ids": order[:2]})
    assert incomplete.status_code == 400 and "ids" in incomplete.json()

    assert owner.delete(f"{url}{uploaded[2]}/").status_code == 204
    left = owner.get(f"/api/v1/products/{product.pk}/").json()["images"]
    assert [(img["id"], img["position"]) for img in left] == [(uploaded[0], 0), (uploaded[1], 1)]
    assert owner.delete(f"{url}{uploaded[2]}/").status_code == 404
    # A photo id of another listing through this listing's URL is not found.
    other = make_product(farm, name="Chôm chôm")
    assert owner.delete(f"/api/v1/products/{other.pk}/images/{uploaded[0]}/").status_code == 404

    for _ in range(settings.PRODUCT_IMAGES_MAX - 2):
        assert owner.post(url, {"image": small_jpeg()}, format="multipart").status_code == 201
    ninth = owner.post(url, {"image": small_jpeg()}, format="multipart")
    assert ninth.status_code == 409
    assert ninth.json()["code"] == "too_many_images"
    assert ProductImage.objects.filter(product=product).count() == settings.PRODUCT_IMAGES_MAX


def test_a_bad_photo_is_a_400_on_the_image_field(make_user, api_as):
    farm = make_farm(make_user)
    product = make_product(farm)
    owner = api_as(farm.owner)
    url = f"/api/v1/products/{product.pk}/images/"
    text = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = owner.post(url, {"image": text}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["image"]
    assert "JPEG" in response.json()["image"][0]
    missing = owner.post(url, {}, format="multipart")
    assert missing.status_code == 400 and "image" in missing.json()
    assert not ProductImage.objects.exists()


def test_lots_with_someone_elses_listing_are_refused(make_user, api_as):
    mine = make_farm(make_user)
    theirs = make_product(make_farm(make_user, name="Hộ bà Ba"), name="Gạo ST25", category=101)
    client = api_as(mine.owner)
    today = timezone.localdate().isoformat()
    refused = client.post("/api/v1/lots/", {"product": theirs.pk, "harvest_date": today, "quantity": "10"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["product"]
    unknown = client.post("/api/v1/lots/", {"product": 999999, "harvest_date": today, "quantity": "10"})
    assert unknown.status_code == 400 and list(unknown.json()) == ["product"]

    product = make_product(mine, unit="trai", unit_weight_kg="0.3", stock=40)
    created = client.post(
        "/api/v1/lots/",
        {"product": product.pk, "harvest_date": today, "quantity": 25, "practices": "VietGAP"},
    )
    assert created.status_code == 201, created.json()
    lot = created.json()
    assert lot["product"] == {"id": product.pk, "name": product.name}
    assert lot["quantity"] == "25.000"
    assert lot["trace_url"] == f"http://testserver/t/{lot['code']}"
    assert lot["qr_png_url"] == f"http://testserver/t/{lot['code']}/qr.png"
    assert lot["qr_svg_url"] == f"http://testserver/t/{lot['code']}/qr.svg"
    # A counted unit takes whole numbers; someone else's listing cannot be swapped in either.
    fraction = client.patch(f"/api/v1/lots/{lot['id']}/", {"quantity": "2.5"})
    assert fraction.status_code == 400 and "quantity" in fraction.json()
    swap = client.patch(f"/api/v1/lots/{lot['id']}/", {"product": theirs.pk})
    assert swap.status_code == 400 and "product" in swap.json()
    edited = client.patch(f"/api/v1/lots/{lot['id']}/", {"quantity": "30", "practices": "Hữu cơ"})
    assert edited.status_code == 200
    assert (edited.json()["quantity"], edited.json()["practices"]) == ("30.000", "Hữu cơ")
    assert [row["id"] for row in client.get("/api/v1/lots/").json()["results"]] == [lot["id"]]
    assert client.delete(f"/api/v1/lots/{lot['id']}/").status_code == 204
    assert client.get(f"/api/v1/lots/{lot['id']}/").status_code == 404


def test_a_farmer_without_a_household_gets_no_farm(make_user, api_as):
    client = api_as(make_user(Role.FARMER))
    today = timezone.localdate()
    assert client.get("/api/v1/my/farm/").status_code == 404
    for url, body, fmt in (
        ("/api/v1/products/", listing(), "json"),
        ("/api/v1/lots/", {"product": 1, "harvest_date": today.isoformat(), "quantity": "1"}, "json"),
        (
            "/api/v1/certifications/",
            {
                "kind": "vietgap",
                "number": "1",
                "issuer": "x",
                "issued_on": today.isoformat(),
                "expires_on": (today + timedelta(days=9)).isoformat(),
                "document": small_jpeg(),
            },
            "multipart",
        ),
    ):
        response = client.post(url, body, format=fmt)
        assert response.status_code == 409, url
        assert response.json()["code"] == "no_farm"
    assert client.get("/api/v1/my/products/").json()["count"] == 0


def test_archiving_a_listing_takes_it_off_sale(make_user, api, api_as):
    farm = make_farm(make_user)
    product = make_product(farm, status="active")
    owner = api_as(farm.owner)
    assert owner.delete(f"/api/v1/products/{product.pk}/").status_code == 204
    assert api.get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert owner.get(f"/api/v1/products/{product.pk}/").json()["status"] == "archived"
    assert [row["status"] for row in owner.get("/api/v1/my/products/").json()["results"]] == ["archived"]
