import json
from collections import defaultdict
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from marketplace.geo.loader import DATA_FILE, load_units, unload_units
from marketplace.geo.models import Ward, WardAlias
from marketplace.geo.selectors import alias_labels, ward_list, wards_for_query

DATA = json.loads(Path(DATA_FILE).read_text(encoding="utf-8"))
DISTRICT_WARDS = {d["code"]: set(d["wards"]) for d in DATA["former_districts"]}
UNIT_WARDS = defaultdict(set)
UNIT_MERGE = {}
for _ward in DATA["wards"]:
    for _unit in _ward["former_units"]:
        UNIT_WARDS[_unit["code"]].add(_ward["code"])
        UNIT_MERGE[_unit["code"]] = (_unit["name"], _unit["merge_type"])

PHONG_DIEN = DISTRICT_WARDS["926"]
CHAU_THANH = DISTRICT_WARDS["933"] | DISTRICT_WARDS["942"]
# Checked by hand in the source: Phường Bùi Hữu Nghĩa went partly to Cái Khế, partly to Bình Thuỷ.
BUI_HUU_NGHIA = {"31120", "31168"}


def codes(queryset):
    return {ward.code for ward in queryset}


@pytest.mark.django_db
def test_the_migration_loads_103_wards():
    assert Ward.objects.count() == 103
    assert Ward.objects.filter(type="phuong").count() == 31
    assert Ward.objects.filter(type="xa").count() == 72
    ward_codes = Ward.objects.values_list("code", flat=True)
    assert all(len(code) == 5 and code.isdigit() for code in ward_codes)
    assert WardAlias.objects.filter(kind="former_unit").count() == len(UNIT_WARDS)
    assert WardAlias.objects.filter(kind="former_district").count() == 28


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["Phong Điền", "phong dien", "Huyện Phong Điền", "  HUYEN   phong  DIEN "]
)
def test_former_district_resolves_to_the_wards_it_fed(query):
    assert "31299" in PHONG_DIEN  # today's Xã Phong Điền, fed by the former town of that name
    assert codes(wards_for_query(query=query)) == PHONG_DIEN


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Quận Ô Môn", "o mon", "Q. Ô Môn"])
def test_district_with_prefix(query):
    assert codes(wards_for_query(query=query)) == DISTRICT_WARDS["917"]


@pytest.mark.django_db
def test_split_unit_resolves_to_every_ward_it_fed():
    split = sorted(code for code, wards in UNIT_WARDS.items() if len(wards) > 1)
    assert split, "the data has partial merges"
    for code in split:
        name, merge_type = UNIT_MERGE[code]
        assert merge_type == "partial"
        alias = WardAlias.objects.get(kind="former_unit", former_code=code)
        assert set(alias.wards.values_list("code", flat=True)) == UNIT_WARDS[code]
        # The name may also be a current ward's or another unit's: the answer is their union.
        assert codes(wards_for_query(query=name)) >= UNIT_WARDS[code]

    assert UNIT_WARDS["31178"] == BUI_HUU_NGHIA
    assert codes(wards_for_query(query="bui huu nghia")) == BUI_HUU_NGHIA
    assert codes(wards_for_query(query="Phường Bùi Hữu Nghĩa")) == BUI_HUU_NGHIA


@pytest.mark.django_db
def test_fully_absorbed_unit_resolves_to_its_one_ward():
    # Phường An Hòa (code 31120, the same code as today's Cái Khế) went wholly to Phường Cái Khế.
    assert UNIT_MERGE["31120"] == ("Phường An Hòa", "full")
    for query in ["An Hòa", "an hoa", "Phường An Hoà", "P. An Hòa"]:
        assert codes(wards_for_query(query=query)) == {"31120"}


@pytest.mark.django_db
def test_current_name_and_code():
    assert codes(wards_for_query(query="Cái Khế")) == {"31120"}
    assert codes(wards_for_query(query="31120")) == {"31120"}
    # Names that begin like a type word still resolve as typed.
    xa_phien = Ward.objects.get(name="Xà Phiên").code
    assert codes(wards_for_query(query="xa phien")) == {xa_phien}
    assert codes(wards_for_query(query="Xã Xà Phiên")) == {xa_phien}


@pytest.mark.django_db
def test_chau_thanh_resolves_to_both_former_districts_with_province_labels():
    assert len(CHAU_THANH) == 7
    assert codes(wards_for_query(query="Châu Thành")) == CHAU_THANH
    assert codes(wards_for_query(query="chau thanh")) == CHAU_THANH
    hau_giang = Ward.objects.get(code=next(iter(DISTRICT_WARDS["933"])))
    soc_trang = Ward.objects.get(code=next(iter(DISTRICT_WARDS["942"])))
    assert "Huyện Châu Thành (Tỉnh Hậu Giang)" in alias_labels(hau_giang)
    assert "Huyện Châu Thành (Tỉnh Sóc Trăng)" in alias_labels(soc_trang)
    long_my = Ward.objects.get(code=next(iter(DISTRICT_WARDS["937"])))
    assert "Thị xã Long Mỹ (Tỉnh Hậu Giang)" in alias_labels(long_my)
    # Unique district names carry no province.
    phong_dien = Ward.objects.get(code=next(iter(PHONG_DIEN)))
    assert "Huyện Phong Điền" in alias_labels(phong_dien)


@pytest.mark.django_db
def test_alias_labels_list_former_units_then_district():
    ward = ward_list().get(code="31120")
    labels = alias_labels(ward)
    assert labels == ["Phường An Hòa", "Phường Bùi Hữu Nghĩa", "Quận Ninh Kiều", "Quận Bình Thuỷ"]
    assert len(labels) == len(set(labels))


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "   ", "Hà Nội", "Huyện", "99999"])
def test_unknown_or_empty_query_is_empty(query):
    assert not wards_for_query(query=query).exists()


@pytest.mark.django_db
def test_alias_labels_need_no_query_per_ward(django_assert_num_queries):
    with django_assert_num_queries(2):
        labels = [alias_labels(ward) for ward in ward_list()]
    assert len(labels) == 103 and all(labels)


@pytest.mark.django_db
def test_api_lists_every_ward_in_constant_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = APIClient().get("/api/v1/wards/")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 103
    assert all(set(item) == {"code", "name", "full_name", "type", "aliases"} for item in body)
    cai_khe = next(item for item in body if item["code"] == "31120")
    assert cai_khe["full_name"] == "Phường Cái Khế" and cai_khe["type"] == "phuong"
    assert "Phường An Hòa" in cai_khe["aliases"]


@pytest.mark.django_db
def test_api_filters_by_query():
    response = APIClient().get("/api/v1/wards/", {"q": "phong dien"})
    assert response.status_code == 200
    assert {item["code"] for item in response.json()} == PHONG_DIEN
    assert APIClient().get("/api/v1/wards/", {"q": "khong co"}).json() == []


@pytest.mark.django_db
def test_loader_unloads_and_reloads():
    unload_units(ward_model=Ward, alias_model=WardAlias)
    assert not Ward.objects.exists() and not WardAlias.objects.exists()
    load_units(ward_model=Ward, alias_model=WardAlias)
    assert Ward.objects.count() == 103
    assert WardAlias.objects.count() == len(UNIT_WARDS) + 28
    assert codes(wards_for_query(query="Phong Điền")) == PHONG_DIEN
