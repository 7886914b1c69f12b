"""Farm pages in detail: photos, certificates, lots, household edits and officials' decisions."""

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from farms import services
from farms.models import (
    Certification,
    CertificationStatus,
    FarmAction,
    FarmStatus,
    HarvestLot,
    ImageStatus,
    ProductStatus,
)
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward

from .factories import make_certification, make_farm, make_product, next_cccd
from .test_pages import CCCD, household_form, jpeg, listing_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def farm(make_user):
    return make_farm(make_user)


@pytest.fixture
def owner(client, farm):
    client.force_login(farm.owner)
    return client


def _upload(owner, product, color, django_capture_on_commit_callbacks, field="image"):
    with django_capture_on_commit_callbacks(execute=True):
        return owner.post(f"/farmer/listings/{product.pk}/photos/", {field: jpeg(color)})


def test_photos_page_uploads_reorders_and_deletes(owner, farm, django_capture_on_commit_callbacks):
    product = make_product(farm)
    page = owner.get(f"/farmer/listings/{product.pk}/photos/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/jpeg,image/png,image/webp"' in page
    assert 'capture="environment"' in page

    for color, field in (("red", "image"), ("green", "camera"), ("blue", "image")):
        assert _upload(owner, product, color, django_capture_on_commit_callbacks, field).status_code == 302
    first, second, third = product.images.order_by("position")
    assert all(image.status == ImageStatus.READY for image in (first, second, third))
    page = owner.get(f"/farmer/listings/{product.pk}/photos/").content.decode()
    assert page.count('<li class="photo">') == 3
    assert first.thumb.url in page

    response = owner.post(f"/farmer/listings/{product.pk}/photos/{third.pk}/move/", {"direction": "up"})
    assert response.status_code == 302
    assert list(product.images.order_by("position").values_list("pk", flat=True)) == [
        first.pk,
        third.pk,
        second.pk,
    ]
    owner.post(f"/farmer/listings/{product.pk}/photos/{first.pk}/move/", {"direction": "up"})  # already first
    assert product.images.order_by("position").first().pk == first.pk

    assert owner.post(f"/farmer/listings/{product.pk}/photos/{first.pk}/delete/").status_code == 302
    assert list(product.images.order_by("position").values_list("pk", "position")) == [
        (third.pk, 0),
        (second.pk, 1),
    ]


def test_photos_page_shows_a_placeholder_until_the_photo_is_processed(owner, farm):
    product = make_product(farm)
    response = owner.post(f"/farmer/listings/{product.pk}/photos/", {"image": jpeg()})  # task not run
    assert response.status_code == 302
    assert product.images.get().status == ImageStatus.PROCESSING
    page = owner.get(f"/farmer/listings/{product.pk}/photos/").content.decode()
    assert '<span class="placeholder">' in page
    dashboard = owner.get("/farmer/").content.decode()
    assert 'class="thumb placeholder"' in dashboard


def test_photos_page_refuses_a_non_image_and_a_ninth_photo(
    owner, farm, settings, django_capture_on_commit_callbacks
):
    product = make_product(farm)
    fake = SimpleUploadedFile("photo.jpg", b"not a picture at all", content_type="image/jpeg")
    response = owner.post(f"/farmer/listings/{product.pk}/photos/", {"image": fake})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not product.images.exists()

    response = owner.post(f"/farmer/listings/{product.pk}/photos/", {})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()

    settings.PRODUCT_IMAGES_MAX = 2
    for color in ("red", "green"):
        _upload(owner, product, color, django_capture_on_commit_callbacks)
    page = owner.get(f"/farmer/listings/{product.pk}/photos/")
    assert not page.context["can_add"]
    assert 'enctype="multipart/form-data"' not in page.content.decode()
    response = _upload(owner, product, "blue", django_capture_on_commit_callbacks)
    assert response.status_code == 200  # a Conflict shown on the page, not a 500
    assert response.context["form"].non_field_errors()
    assert product.images.count() == 2


def test_listing_form_offers_grouped_categories_units_and_saves_edits(owner, farm):
    page = owner.get("/farmer/listings/new/").content.decode()
    assert '<optgroup label="Trái cây">' in page or '<optgroup label="Fruit">' in page
    assert '<option value="203">' in page
    assert '<option value="yen">' in page
    assert 'name="harvest_date"' in page and 'type="date"' in page

    response = owner.post("/farmer/listings/new/", listing_form(unit="trai", unit_weight_kg=""))
    assert response.status_code == 200
    assert response.context["form"].errors["unit_weight_kg"]

    response = owner.post(
        "/farmer/listings/new/",
        listing_form(unit="trai", unit_weight_kg="2,5", harvest_date="2026-11-20", status="active"),
    )
    assert response.status_code == 302
    product = farm.products.get()
    assert (product.unit, str(product.unit_weight_kg), product.status) == (
        "trai",
        "2.500",
        ProductStatus.ACTIVE,
    )
    assert product.harvest_date.isoformat() == "2026-11-20"

    edit = owner.get(f"/farmer/listings/{product.pk}/")
    assert edit.context["form"].initial["unit_weight_kg"] == "2.5"
    response = owner.post(
        f"/farmer/listings/{product.pk}/",
        listing_form(unit="trai", unit_weight_kg="2.5", name="Bưởi da xanh", status="paused"),
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.status) == ("Bưởi da xanh", ProductStatus.PAUSED)

    assert owner.post(f"/farmer/listings/{product.pk}/archive/").status_code == 302
    product.refresh_from_db()
    assert product.status == ProductStatus.ARCHIVED
    dashboard = owner.get("/farmer/").content.decode()
    assert f'id="p{product.pk}"' not in dashboard and "Bưởi da xanh" in dashboard  # under "archived"


def test_an_unverified_household_cannot_publish_and_is_told_why(client, make_user):
    farm = make_farm(make_user, verified=False)
    client.force_login(farm.owner)
    response = client.post("/farmer/listings/new/", listing_form(status="active"))
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    assert not farm.products.exists()

    product = make_product(farm)
    response = client.post(f"/farmer/listings/{product.pk}/status/", {"status": "active"}, follow=True)
    assert response.status_code == 200
    assert any(message.level_tag == "error" for message in response.context["messages"])
    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT


def test_a_farmer_without_household_is_sent_to_register(client, make_user):
    client.force_login(make_user(Role.FARMER))
    dashboard = client.get("/farmer/").content.decode()
    assert 'href="/farmer/household/"' in dashboard
    for url in ("/farmer/listings/new/", "/farmer/certifications/new/", "/farmer/lots/new/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/farmer/household/"
    form = client.get("/farmer/household/").content.decode()
    assert 'inputmode="numeric"' in form
    # The ward is typed, helped by a list of all 103 by name (former names findable too).
    datalist = re.search(r"<datalist[^>]*>(.*?)</datalist>", form, re.S).group(1)
    assert len(re.findall(r'<option value="', datalist)) == 103
    names = list(Ward.objects.order_by("name_folded", "name").values_list("name", flat=True))
    assert datalist.index(names[0]) < datalist.index(names[50]) < datalist.index(names[-1])


def test_a_citizen_id_already_registered_is_shown_on_the_form(client, make_user):
    make_farm(make_user, cccd=CCCD)
    client.force_login(make_user(Role.FARMER))
    response = client.post("/farmer/household/", household_form())
    assert response.status_code == 200
    assert response.context["form"].errors["cccd"]
    response = client.post("/farmer/household/", household_form(cccd="12345"))
    assert response.status_code == 200
    assert response.context["form"].errors["cccd"]


def test_editing_a_verified_households_identity_sends_it_back_to_review(owner, farm):
    data = household_form(cccd="", ward=farm.ward_id, name="Hộ ông Tư mới")
    assert owner.post("/farmer/household/", data).status_code == 302
    farm.refresh_from_db()
    assert (farm.name, farm.status) == ("Hộ ông Tư mới", FarmStatus.PENDING)
    assert farm.decisions.filter(action=FarmAction.IDENTITY_CHANGED).exists()


def test_rejection_with_reason_is_shown_to_the_household_which_corrects_and_resubmits(
    client, make_user, django_capture_on_commit_callbacks
):
    farm = make_farm(make_user, verified=False)
    officer = Client()
    officer.force_login(make_user(Role.OFFICIAL, full_name="Lê Minh Tâm"))
    detail = officer.get(f"/official/households/{farm.pk}/").content.decode()
    assert f'action="/official/households/{farm.pk}/approve/"' in detail
    assert f'action="/official/households/{farm.pk}/reject/"' in detail
    assert f'action="/official/households/{farm.pk}/suspend/"' not in detail

    response = officer.post(f"/official/households/{farm.pk}/reject/", {"reason": ""}, follow=True)
    assert any(message.level_tag == "error" for message in response.context["messages"])
    farm.refresh_from_db()
    assert farm.status == FarmStatus.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        officer.post(f"/official/households/{farm.pk}/reject/", {"reason": "Diện tích không khớp sổ đỏ"})
    farm.refresh_from_db()
    assert farm.status == FarmStatus.REJECTED

    client.force_login(farm.owner)
    dashboard = client.get("/farmer/").content.decode()
    assert "Diện tích không khớp sổ đỏ" in dashboard
    assert 'action="/farmer/household/resubmit/"' in dashboard
    client.post("/farmer/household/", household_form(cccd="", area_m2="4200", ward=farm.ward_id))
    assert client.post("/farmer/household/resubmit/").status_code == 302
    farm.refresh_from_db()
    assert (farm.status, farm.area_m2) == (FarmStatus.PENDING, 4200)
    assert client.post("/farmer/household/resubmit/", follow=True).status_code == 200  # a Conflict, shown

    trail = officer.get(f"/official/households/{farm.pk}/").content.decode()
    assert "Lê Minh Tâm" in trail and "Diện tích không khớp sổ đỏ" in trail
    assert trail.count("<tr>") >= 4  # header, submitted, rejected, resubmitted


def test_suspension_and_reinstatement_from_the_household_page(client, make_user, farm):
    officer = Client()
    officer.force_login(make_user(Role.OFFICIAL))
    officer.post(f"/official/households/{farm.pk}/suspend/", {"reason": "Bán hàng sai mô tả"})
    farm.refresh_from_db()
    assert farm.status == FarmStatus.SUSPENDED
    client.force_login(farm.owner)
    assert "Bán hàng sai mô tả" in client.get("/farmer/").content.decode()

    response = officer.post(f"/official/households/{farm.pk}/approve/", follow=True)  # not pending
    assert response.status_code == 200
    assert any(message.level_tag == "error" for message in response.context["messages"])
    officer.post(f"/official/households/{farm.pk}/reinstate/", {"reason": ""})
    farm.refresh_from_db()
    assert farm.status == FarmStatus.VERIFIED
    assert officer.post(f"/official/households/{farm.pk}/promote/").status_code == 404


def test_official_queue_tabs_and_start_page_counts(client, make_user):
    old = make_farm(make_user, verified=False, name="Hộ gửi trước")
    new = make_farm(make_user, verified=False, name="Hộ gửi sau")
    verified = make_farm(make_user, name="Hộ đã duyệt")
    make_certification(verified)
    client.force_login(make_user(Role.OFFICIAL))
    queue = client.get("/official/households/").content.decode()
    assert queue.index("Hộ gửi trước") < queue.index("Hộ gửi sau")
    assert "Hộ đã duyệt" not in queue
    tab = client.get("/official/households/?status=verified").content.decode()
    assert "Hộ đã duyệt" in tab and "Hộ gửi sau" not in tab
    home = client.get("/official/")
    assert (home.context["pending_farms"], home.context["pending_certifications"]) == (2, 1)
    assert 'href="/official/households/"' in home.content.decode()
    assert {old.pk, new.pk} == {farm.pk for farm in client.get("/official/households/").context["page"]}


def test_certificates_added_downloaded_decided_and_deleted_through_pages(owner, farm, make_user):
    page = owner.get("/farmer/certifications/new/").content.decode()
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in page
    today = timezone.localdate()
    data = {
        "kind": "vietgap",
        "ocop_stars": "",
        "number": "VG-092-777",
        "issuer": "Trung tâm Chứng nhận Cần Thơ",
        "issued_on": (today - timedelta(days=365)).isoformat(),
        "expires_on": (today + timedelta(days=365)).isoformat(),
    }
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    response = owner.post(
        "/farmer/certifications/new/",
        {**data, "document": SimpleUploadedFile("vg.pdf", pdf, content_type="application/pdf")},
    )
    assert response.status_code == 302
    certification = farm.certifications.get()
    response = owner.get(f"/farmer/certifications/{certification.pk}/document/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == pdf

    bad = owner.post("/farmer/certifications/new/", {**data, "kind": "ocop", "document": jpeg()})
    assert bad.status_code == 200
    assert bad.context["form"].errors["ocop_stars"]

    photo = services.certification_create(
        farm=farm,
        kind="globalgap",
        number="GG-1",
        issuer=data["issuer"],
        issued_on=date.fromisoformat(data["issued_on"]),
        expires_on=date.fromisoformat(data["expires_on"]),
        document=jpeg(),
    )
    officer = Client()
    officer.force_login(make_user(Role.OFFICIAL))
    queue = officer.get("/official/certifications/").content.decode()
    assert "VG-092-777" in queue and "GG-1" in queue
    viewed = officer.get(f"/official/certifications/{photo.pk}/document/")
    assert viewed.status_code == 200
    assert viewed["Content-Type"] == "image/jpeg"
    assert viewed["Content-Disposition"].startswith("inline;")

    officer.post(f"/official/certifications/{certification.pk}/approve/")
    response = officer.post(f"/official/certifications/{photo.pk}/reject/", {"reason": ""}, follow=True)
    assert any(message.level_tag == "error" for message in response.context["messages"])
    officer.post(f"/official/certifications/{photo.pk}/reject/", {"reason": "Không đọc được số"})
    statuses = dict(Certification.objects.values_list("number", "status"))
    assert statuses == {"VG-092-777": CertificationStatus.VERIFIED, "GG-1": CertificationStatus.REJECTED}

    listing = owner.get("/farmer/certifications/").content.decode()
    assert "Không đọc được số" in listing
    assert f'action="/farmer/certifications/{certification.pk}/delete/"' not in listing
    assert owner.post(f"/farmer/certifications/{certification.pk}/delete/").status_code == 302
    assert owner.post(f"/farmer/certifications/{photo.pk}/delete/").status_code == 302
    assert list(farm.certifications.values_list("number", flat=True)) == ["VG-092-777"]


def test_lots_are_recorded_edited_and_listed(owner, farm, make_user):
    product = make_product(farm)
    other = make_product(make_farm(make_user, cccd=next_cccd(), ward_index=2), name="Cá tra")
    form = owner.get("/farmer/lots/new/").content.decode()
    assert "Cá tra" not in form and "Măng cụt Phong Điền" in form
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    data = {"product": product.pk, "harvest_date": yesterday, "quantity": "250,5", "practices": "VietGAP"}
    response = owner.post("/farmer/lots/new/", {**data, "product": other.pk})
    assert response.status_code == 200 and response.context["form"].errors["product"]
    response = owner.post("/farmer/lots/new/", data)
    lot = HarvestLot.objects.get()
    assert response["Location"] == f"/farmer/lots/{lot.pk}/label/"
    assert str(lot.quantity) == "250.500"

    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = owner.post(f"/farmer/lots/{lot.pk}/", {**data, "harvest_date": future})
    assert response.status_code == 200 and response.context["form"].errors["harvest_date"]
    owner.post(f"/farmer/lots/{lot.pk}/", {**data, "quantity": "300"})
    lot.refresh_from_db()
    assert str(lot.quantity) == "300.000"
    listing = owner.get("/farmer/lots/").content.decode()
    assert lot.code in listing and f'href="/t/{lot.code}"' in listing
