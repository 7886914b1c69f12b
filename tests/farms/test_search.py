"""Catalogue search for Vietnamese, its filters and sorting (farms/search.py).

The table runs on SQLite and on PostgreSQL alike; typo tolerance is PostgreSQL's alone.
"""

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from farms import services
from farms.models import Certification, Product
from farms.search import (
    accented_words,
    catalogue_params,
    folded_words,
    product_catalogue,
    product_search_refresh,
    refresh_search_columns,
)
from marketplace.accounts.models import Role

from .factories import make_certification, make_farm, make_product

pytestmark = pytest.mark.django_db

# Households: name, ward code. Nhơn Ái and Phong Điền were Phong Điền district; 31153 is
# the ward Ô Môn (former district Ô Môn); Thốt Nốt, Cái Răng, Vĩnh Thạnh are elsewhere.
HOUSEHOLDS = {
    "hien": ("Vườn Út Hiền", "31315"),  # Nhơn Ái
    "nam": ("Hộ bà Năm", "31299"),  # Phong Điền
    "bay": ("Hộ ông Bảy", "31153"),  # Ô Môn
    "thao": ("Hộ chị Thảo", "31186"),  # Cái Răng
    "lanh": ("Trang trại Tư Lành", "31207"),  # Thốt Nốt
    "khang": ("Hộ anh Khang", "31232"),  # Vĩnh Thạnh
}

# Listings in creation order (later = newer): name, household, category, description.
LISTINGS = [
    ("Sầu riêng Ri6", "hien", 201, ""),
    ("Măng cụt", "hien", 203, ""),
    ("Chôm chôm Thái", "hien", 204, ""),
    ("Dâu Hạ Châu", "nam", 210, ""),
    ("Gạo ST25", "bay", 101, ""),
    ("Cá tra", "bay", 401, ""),
    ("Dừa xiêm", "thao", 206, ""),
    ("Dưa lưới", "thao", 207, ""),
    ("Dứa Cầu Đúc", "thao", 299, "Dứa mật, trái to."),
    ("Bưởi da xanh", "lanh", 202, ""),
    ("Đậu xanh", "lanh", 103, ""),
    ("Rau muống", "lanh", 301, ""),
    ("Trứng vịt", "lanh", 504, ""),
    ("Khoai môn", "lanh", 302, ""),
    ("Mật ong hoa tràm", "khang", 603, ""),
    ("Trà xanh", "khang", 603, ""),
    ("Mứt trái cây", "khang", 699, "Mứt dẻo làm từ măng cụt chín cây."),
    ("Gà ta thả vườn", "khang", 501, ""),
]
PHONG_DIEN = ["Dâu Hạ Châu", "Chôm chôm Thái", "Măng cụt", "Sầu riêng Ri6"]  # newest first
O_MON = ["Cá tra", "Gạo ST25"]
THOT_NOT = ["Khoai môn", "Trứng vịt", "Rau muống", "Đậu xanh", "Bưởi da xanh"]


@dataclass
class Catalogue:
    farms: dict
    products: dict
    official: object


@pytest.fixture
def catalogue(make_user) -> Catalogue:
    official = make_user(Role.OFFICIAL)
    farms = {
        key: make_farm(make_user, official=official, name=name, ward=code)
        for key, (name, code) in HOUSEHOLDS.items()
    }
    products = {
        name: make_product(
            farms[farm], name=name, category=category, description=description, status="active"
        )
        for name, farm, category, description in LISTINGS
    }
    return Catalogue(farms, products, official)


def names(queryset) -> list[str]:
    return [product.name for product in queryset]


@dataclass(frozen=True)
class Search:
    query: str
    expected: list[str]
    ordered: bool = True  # False: only the set is specified
    absent: tuple[str, ...] = ()  # false friends: named for the reader, checked as well


SEARCHES = [
    # Accents, case, đ/d: the same listings whichever way it is typed.
    Search("sau rieng", ["Sầu riêng Ri6"]),
    Search("Sầu Riêng", ["Sầu riêng Ri6"]),
    Search("sầu riêng", ["Sầu riêng Ri6"]),
    Search("SAU RIENG RI6", ["Sầu riêng Ri6"]),
    Search("durian", ["Sầu riêng Ri6"]),  # the category's English name
    Search("dua xiem", ["Dừa xiêm"]),
    Search("DỪA XIÊM", ["Dừa xiêm"]),
    Search("dau xanh", ["Đậu xanh"], absent=("Bưởi da xanh", "Trà xanh", "Dâu Hạ Châu")),
    Search("Đậu", ["Đậu xanh", "Dâu Hạ Châu"]),  # exact accents first
    Search("đậu xanh", ["Đậu xanh"]),
    Search("DAU", ["Đậu xanh", "Dâu Hạ Châu"]),  # no accents: both names, newest first
    Search("dâu", ["Dâu Hạ Châu", "Đậu xanh"]),
    # Accent-aware order: the accents as typed in the name come first, then newest.
    Search("dừa", ["Dừa xiêm", "Dứa Cầu Đúc", "Dưa lưới"]),
    Search("dưa", ["Dưa lưới", "Dứa Cầu Đúc", "Dừa xiêm"]),
    Search("dứa", ["Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"]),
    Search("dua", ["Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"], absent=("Đậu xanh",)),
    Search("dưa lưới", ["Dưa lưới"]),
    Search("trà", ["Trà xanh", "Cá tra", "Mật ong hoa tràm"]),  # its category is "Mật ong, trà"
    # A name match ranks above a description match.
    Search("mang cut", ["Măng cụt", "Mứt trái cây"]),
    Search("Măng Cụt", ["Măng cụt", "Mứt trái cây"]),
    Search("mangosteen", ["Măng cụt"]),
    # Former districts and wards, household names.
    Search("Phong Điền", PHONG_DIEN),
    Search("phong dien", PHONG_DIEN),
    Search("huyện phong điền", PHONG_DIEN),
    Search("mang cut phong dien", ["Măng cụt"]),
    Search("Ô Môn", O_MON, absent=("Khoai môn",)),
    Search("o mon", O_MON, absent=("Khoai môn",)),
    Search("mon", ["Khoai môn", *O_MON]),  # the name first, then the ward's listings
    Search("nhơn nghĩa", ["Chôm chôm Thái", "Măng cụt", "Sầu riêng Ri6"]),  # a former commune
    Search("thot not", THOT_NOT),
    Search("ut hien", ["Chôm chôm Thái", "Măng cụt", "Sầu riêng Ri6"]),
    Search("ri6", ["Sầu riêng Ri6"]),
    Search("gao st25", ["Gạo ST25"]),
    Search("trung vit", ["Trứng vịt"]),
    Search("chom chom thai", ["Chôm chôm Thái"]),
    Search("coconut", ["Dừa xiêm"]),
    # No false friends from a shared syllable.
    Search("ca tra", ["Cá tra"], absent=("Trà xanh", "Mật ong hoa tràm")),
    Search("rau", ["Rau muống", "Khoai môn"], absent=("Sầu riêng Ri6",)),  # Khoai môn: "Rau củ"
    Search("ga", ["Gà ta thả vườn"], absent=("Gạo ST25",)),
    Search("bo", [], absent=("Bưởi da xanh",)),
    Search("xanh dau", ["Đậu xanh"], ordered=False),
    Search("mat ong", ["Mật ong hoa tràm", "Trà xanh"], absent=("Mứt trái cây",)),  # category
]


@pytest.mark.parametrize("search", SEARCHES, ids=[s.query for s in SEARCHES])
def test_search_table(catalogue, search):
    found = names(product_catalogue(q=search.query))
    if search.ordered:
        assert found == search.expected
    else:
        assert sorted(found) == sorted(search.expected)
    assert not set(search.absent) & set(found)
    assert set(search.absent) <= set(catalogue.products)  # a false friend that exists


def test_the_table_is_big_enough():
    assert len(SEARCHES) >= 20
    assert sum(1 for s in SEARCHES if s.absent) >= 5


def test_decomposed_unicode_searches_like_composed(catalogue):
    # Some Vietnamese keyboards type combining accents ("Unicode tổ hợp").
    assert names(product_catalogue(q=unicodedata.normalize("NFD", "dừa"))) == names(
        product_catalogue(q="dừa")
    )


def test_either_tone_placement_ranks_the_same(catalogue):
    # "hoà" and "hòa" are the same word written two ways; both rank the exact name first.
    make_product(catalogue.farms["khang"], name="Trà Hoà An", category=603, status="active")
    old_style, new_style = names(product_catalogue(q="hòa")), names(product_catalogue(q="hoà"))
    assert old_style == new_style
    assert old_style[:2] == ["Trà Hoà An", "Mật ong hoa tràm"]
    assert set(O_MON) <= set(old_style)  # the former ward Thới Hòa


def test_every_word_must_match_exactly_or_postgresql_guesses(catalogue):
    found = names(product_catalogue(q="sầu riêng xoài"))
    if connection.vendor == "postgresql":
        assert found == ["Sầu riêng Ri6"]  # nothing has all three words: the closest name
    else:
        assert found == []


def test_words():
    assert folded_words("Sầu riêng Ri6, ĐẶC SẢN!") == ["sau", "rieng", "ri6", "dac", "san"]
    assert accented_words("Hoà THUỶ quý khoẻ Dừa") == ["hòa", "thủy", "quý", "khỏe", "dừa"]


def test_punctuation_alone_matches_nothing(catalogue):
    assert names(product_catalogue(q="!!!")) == []
    assert len(product_catalogue(q="   ")) == len(LISTINGS)  # blank: no search at all


# --- The produce before the household (issue #22) -----------------------------------------------

# Households whose names hold produce words: name, ward code. 31299 is the ward Phong Điền.
NAMED_HOUSEHOLDS = {
    "ba_lanh": ("Vườn sầu riêng Ba Lành", "31299"),
    "ut_hien": ("Trại cá tra Út Hiền", "31153"),  # Ô Môn
    "sau": ("Hộ ông Sáu", "31207"),  # Thốt Nốt
    "tu": ("Hộ bà Tư", "31186"),  # Cái Răng
    "banh": ("Cơ sở bánh Phong Điền", "31186"),  # named after a place it is not in
}
# Oldest first: newest-first would list them the other way round from relevance.
NAMED_LISTINGS = [
    ("Sầu riêng Ri6", "sau", 201, "Cơm vàng, hạt lép."),
    ("Monthong hạt lép", "sau", 201, "Trái 3–5 kg."),  # durian by its category alone
    ("Kẹo dừa", "tu", 601, "Kẹo dừa Bến Tre, có vị sầu riêng."),  # durian in its description
    ("Cá tra phi lê", "tu", 401, "Cá nuôi ao đất, làm sạch."),
    ("Khô cá tra phồng", "tu", 602, ""),
    ("Bánh pía sầu riêng", "ba_lanh", 601, "Hộp 4 cái, nhân đậu xanh và trứng muối."),
    ("Mía tím", "ba_lanh", 299, "Mía ép nước, bó 10 cây."),
    ("Tôm càng xanh", "ut_hien", 402, "Tôm nuôi ruộng lúa."),
    ("Cá lóc đồng", "ut_hien", 401, "Cá lóc bắt đồng, 0,5–1 kg/con."),
    ("Bánh tét lá cẩm", "banh", 601, ""),
]


def make_named_market(make_user) -> Catalogue:
    """Build NAMED_HOUSEHOLDS and NAMED_LISTINGS (the API tests use them too)."""
    official = make_user(Role.OFFICIAL)
    farms = {
        key: make_farm(make_user, official=official, name=name, ward=code)
        for key, (name, code) in NAMED_HOUSEHOLDS.items()
    }
    products = {
        name: make_product(
            farms[farm], name=name, category=category, description=description, status="active"
        )
        for name, farm, category, description in NAMED_LISTINGS
    }
    return Catalogue(farms, products, official)


@pytest.fixture
def named_market(make_user) -> Catalogue:
    return make_named_market(make_user)


DURIAN = ["Sầu riêng Ri6", "Bánh pía sầu riêng", "Kẹo dừa", "Monthong hạt lép"]
PANGASIUS = ["Cá tra phi lê", "Khô cá tra phồng"]
NAMED_SEARCHES = [
    # The durian itself, then the name that holds the words later (a cake), then a description,
    # then a category; the sugarcane of "Vườn sầu riêng Ba Lành" not at all.
    Search("sau rieng", DURIAN, absent=("Mía tím",)),
    Search("sầu riêng", DURIAN, absent=("Mía tím",)),
    Search("SẦU RIÊNG", DURIAN, absent=("Mía tím",)),
    Search("durian", ["Monthong hạt lép", "Sầu riêng Ri6"], absent=("Mía tím", "Bánh pía sầu riêng")),
    # Pangasius, not the shrimp and snakehead of "Trại cá tra Út Hiền".
    Search("ca tra", PANGASIUS, absent=("Tôm càng xanh", "Cá lóc đồng")),
    Search("cá tra", PANGASIUS, absent=("Tôm càng xanh", "Cá lóc đồng")),
    # Nothing better: the household's name finds its listings (newest first).
    Search("ba lanh", ["Mía tím", "Bánh pía sầu riêng"]),
    Search("vuon sau rieng ba lanh", ["Mía tím", "Bánh pía sầu riêng"]),
    Search("ut hien", ["Cá lóc đồng", "Tôm càng xanh"]),
    Search("tom ut hien", ["Tôm càng xanh"]),  # a word of its own and the household's name
    # The ward's listings, then last the household named after the place.
    Search("phong dien", ["Mía tím", "Bánh pía sầu riêng", "Bánh tét lá cẩm"]),
    Search("mia phong dien", ["Mía tím"]),
]


@pytest.mark.parametrize("search", NAMED_SEARCHES, ids=[s.query for s in NAMED_SEARCHES])
def test_produce_ranks_above_the_household_named_after_it(named_market, search):
    found = names(product_catalogue(q=search.query))
    assert found == search.expected
    assert not set(search.absent) & set(found)
    assert set(search.absent) <= set(named_market.products)


def test_a_household_match_counts_only_when_nothing_better_passes_the_filters(named_market):
    # Among "other fruit" the sugarcane is the only listing with the words: it is shown.
    assert names(product_catalogue(q="sau rieng", category=299)) == ["Mía tím"]
    # Within the household, its cake has the words in its name: the sugarcane stays out.
    ba_lanh = named_market.farms["ba_lanh"]
    assert names(product_catalogue(q="sau rieng", farm=ba_lanh)) == ["Bánh pía sầu riêng"]
    # The household's listings alone, the cake paused: the sugarcane comes back.
    services.product_update(product=named_market.products["Bánh pía sầu riêng"], status="paused")
    assert names(product_catalogue(q="sau rieng", farm=ba_lanh)) == ["Mía tím"]
    assert names(product_catalogue(q="sau rieng")) == ["Sầu riêng Ri6", "Kẹo dừa", "Monthong hạt lép"]


def test_sorting_by_price_keeps_the_household_matches_out(named_market):
    prices = {"Mía tím": 1000, "Sầu riêng Ri6": 90000, "Bánh pía sầu riêng": 60000}
    for name, price in prices.items():
        services.product_update(product=named_market.products[name], price=price)
    found = names(product_catalogue(q="sau rieng", ordering="price"))
    assert "Mía tím" not in found
    assert found[-1] == "Sầu riêng Ri6"
    assert names(product_catalogue(q="ca tra", ordering="newest")) == PANGASIUS[::-1]


def test_a_renamed_household_leaves_and_enters_the_ranking(named_market):
    farm = named_market.farms["tu"]
    services.farm_update(farm=farm, by=farm.owner, name="Vườn sầu riêng Tư")
    services.farm_decide(farm=farm, by=named_market.official, decision="approve")
    # "Kẹo dừa" still has the words in its own description; the fish only in the new name.
    assert names(product_catalogue(q="sau rieng")) == DURIAN
    assert names(product_catalogue(q="vuon tu")) == ["Khô cá tra phồng", "Cá tra phi lê", "Kẹo dừa"]


def test_search_document_sections_are_in_rank_order(named_market):
    document = named_market.products["Mía tím"].search_document
    assert document.startswith(" mia tim |d mia ep nuoc ")
    sections = [document.index(f" {mark} ") for mark in ("|d", "|c", "|p", "|h")]
    assert sections == sorted(sections)
    assert document.endswith(" |h vuon sau rieng ba lanh ")
    assert document.index(" phong dien ") > sections[2]  # the ward, in the place section


# --- Typos (PostgreSQL) ---------------------------------------------------------------------


TYPOS = [
    ("mang cutt", "Măng cụt", ("Chôm chôm Thái",)),
    ("sau rienh", "Sầu riêng Ri6", ("Rau muống",)),
    ("buoi da xahn", "Bưởi da xanh", ("Đậu xanh", "Trà xanh")),
    ("chom chomm", "Chôm chôm Thái", ("Măng cụt",)),
    ("trun vit", "Trứng vịt", ("Gà ta thả vườn",)),
    ("dau xnah", "Đậu xanh", ("Bưởi da xanh", "Dâu Hạ Châu")),
    ("mat ongg", "Mật ong hoa tràm", ("Mứt trái cây",)),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "first", "absent"), TYPOS, ids=[t[0] for t in TYPOS])
def test_typos_find_the_listing_on_postgresql(catalogue, query, first, absent):
    found = names(product_catalogue(q=query))
    assert found[:1] == [first]
    assert not set(absent) & set(found)
    assert set(absent) <= set(catalogue.products)


@pytest.mark.postgres
def test_typo_fallback_only_when_nothing_matches_exactly(catalogue):
    misspelt = make_product(catalogue.farms["nam"], name="Sầu riênh", category=299, status="active")
    # An exact match exists: the close name stays out, as on SQLite.
    assert names(product_catalogue(q="sau rieng")) == ["Sầu riêng Ri6"]
    assert names(product_catalogue(q="sau rienh")) == [misspelt.name]
    # Nothing exact: both, closest first.
    assert names(product_catalogue(q="sau riengg")) == ["Sầu riêng Ri6", misspelt.name]
    # Filters still hold for typo matches.
    assert names(product_catalogue(q="mang cutt", category=204)) == []


# --- Keeping the columns current --------------------------------------------------------------


def test_renaming_a_listing_moves_it_in_search(catalogue):
    product = catalogue.products["Dưa lưới"]
    services.product_update(product=product, name="Dưa hấu")
    assert names(product_catalogue(q="dua hau")) == ["Dưa hấu"]
    assert names(product_catalogue(q="luoi")) == []


def test_a_new_category_and_description_are_searched(catalogue):
    product = catalogue.products["Khoai môn"]
    services.product_update(product=product, category=304, description="Nấm rơm sạch")
    assert names(product_catalogue(q="nam rom")) == ["Khoai môn"]
    assert names(product_catalogue(q="mushrooms")) == ["Khoai môn"]


def test_household_name_and_ward_changes_reach_its_listings(catalogue):
    farm = catalogue.farms["thao"]
    services.farm_update(farm=farm, by=farm.owner, name="Vườn cô Mười")
    services.farm_decide(farm=farm, by=catalogue.official, decision="approve")
    assert names(product_catalogue(q="co muoi")) == ["Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"]
    services.farm_update(farm=farm, by=farm.owner, ward="31299")  # into former Phong Điền
    services.farm_decide(farm=farm, by=catalogue.official, decision="approve")
    moved = {"Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"}
    assert set(names(product_catalogue(q="phong dien"))) == {*PHONG_DIEN, *moved}
    assert names(product_catalogue(q="cai rang")) == []


def test_a_deleted_owners_household_name_leaves_the_search_columns(catalogue):
    farm = catalogue.farms["hien"]
    services.farm_forget_owner(user=farm.owner)
    assert not Product.objects.filter(farm=farm, search_document__contains=" hien ").exists()


def test_refresh_refills_blank_columns_and_updates_instances(catalogue):
    Product.objects.update(search_name="", search_name_folded="", search_document="")
    assert names(product_catalogue(q="sau rieng")) == []
    refresh_search_columns(Product.objects.all())
    assert names(product_catalogue(q="sau rieng")) == ["Sầu riêng Ri6"]
    product = catalogue.products["Dừa xiêm"]
    Product.objects.filter(pk=product.pk).update(name="Dừa sáp")
    product.name = "Dừa sáp"
    product_search_refresh(products=[product])
    assert product.search_name == " dừa sáp "
    assert product.search_name_folded == " dua sap "
    assert " cai rang " in product.search_document and " coconut " in product.search_document


# --- Filters and sorting ----------------------------------------------------------------------


def test_category_includes_its_subcategories(catalogue):
    fruit = names(product_catalogue(category=2))
    assert set(fruit) == {
        "Sầu riêng Ri6",
        "Măng cụt",
        "Chôm chôm Thái",
        "Dâu Hạ Châu",
        "Dừa xiêm",
        "Dưa lưới",
        "Dứa Cầu Đúc",
        "Bưởi da xanh",
    }
    assert names(product_catalogue(category=203)) == ["Măng cụt"]
    assert names(product_catalogue(category=9999)) == []


def test_wards_by_code_current_or_former_name(catalogue):
    assert names(product_catalogue(wards=["31153"])) == O_MON
    assert names(product_catalogue(wards=["Ô Môn"])) == O_MON
    assert names(product_catalogue(wards=["huyện phong điền"])) == PHONG_DIEN
    assert names(product_catalogue(wards=["nhon ai", "31153"])) == [*O_MON, *PHONG_DIEN[1:]]
    assert names(product_catalogue(wards=["Atlantis"])) == []
    assert names(product_catalogue(wards=["Atlantis", "o mon"])) == O_MON


def test_certifications_with_a_badge_today(catalogue):
    official = catalogue.official

    def certify(farm_key, kind, **fields):
        made = make_certification(catalogue.farms[farm_key], kind=kind, **fields)
        services.certification_decide(certification=made, by=official, decision="approve")
        return made

    certify("hien", "vietgap")
    certify("khang", "ocop", ocop_stars=5, number="OCOP-5")
    certify("lanh", "ocop", ocop_stars=3, number="OCOP-3")
    expired = certify("bay", "globalgap", number="GG-1")
    Certification.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    make_certification(catalogue.farms["thao"], kind="organic", number="HC-1")  # not verified

    hien = {"Sầu riêng Ri6", "Măng cụt", "Chôm chôm Thái"}
    khang = {"Mật ong hoa tràm", "Trà xanh", "Mứt trái cây", "Gà ta thả vườn"}
    lanh = set(THOT_NOT)
    assert set(names(product_catalogue(certifications=["vietgap"]))) == hien
    assert set(names(product_catalogue(certifications=["ocop"]))) == khang | lanh
    assert set(names(product_catalogue(certifications=["ocop3"]))) == khang | lanh
    assert set(names(product_catalogue(certifications=["ocop4"]))) == khang
    assert set(names(product_catalogue(certifications=["ocop5"]))) == khang
    assert set(names(product_catalogue(certifications=["vietgap", "ocop5"]))) == hien | khang
    assert names(product_catalogue(certifications=["globalgap"])) == []
    assert names(product_catalogue(certifications=["organic"])) == []


def test_price_stock_and_availability(catalogue):
    products = catalogue.products
    today = timezone.localdate()
    services.product_update(product=products["Gạo ST25"], price=25000)
    services.product_update(product=products["Cá tra"], price=30000, stock="2", min_order="5")
    services.product_update(product=products["Măng cụt"], harvest_date=today + timedelta(days=10))
    services.product_update(product=products["Chôm chôm Thái"], available_from=today + timedelta(days=3))
    services.product_update(product=products["Sầu riêng Ri6"], available_until=today - timedelta(days=1))
    services.product_update(product=products["Dâu Hạ Châu"], harvest_date=today, available_until=today)

    assert names(product_catalogue(min_price=25000, max_price=30000)) == O_MON
    assert names(product_catalogue(max_price=25000)) == ["Gạo ST25"]
    assert "Cá tra" not in names(product_catalogue(in_stock=True))
    assert len(product_catalogue(in_stock=True)) == len(LISTINGS) - 1
    assert names(product_catalogue(available="preorder")) == ["Chôm chôm Thái", "Măng cụt"]
    now = names(product_catalogue(available="now"))
    assert "Dâu Hạ Châu" in now
    assert not {"Chôm chôm Thái", "Măng cụt", "Sầu riêng Ri6"} & set(now)
    assert len(now) == len(LISTINGS) - 3


def test_orderings(catalogue):
    for index, name in enumerate(["Gạo ST25", "Cá tra", "Trà xanh"]):
        services.product_update(product=catalogue.products[name], price=10000 * (index + 1))
    everything = names(product_catalogue())
    assert everything == [name for name, *_rest in reversed(LISTINGS)]  # newest first
    assert names(product_catalogue(ordering="price"))[:3] == ["Gạo ST25", "Cá tra", "Trà xanh"]
    assert names(product_catalogue(ordering="-price"))[-3:] == ["Trà xanh", "Cá tra", "Gạo ST25"]
    assert names(product_catalogue(q="dừa", ordering="newest")) == ["Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"]
    assert names(product_catalogue(q="dừa", ordering="relevance"))[0] == "Dừa xiêm"
    assert names(product_catalogue(ordering="relevance")) == everything  # no query: newest


def test_filters_combine(catalogue):
    services.product_update(product=catalogue.products["Măng cụt"], price=45000)
    services.product_update(product=catalogue.products["Sầu riêng Ri6"], price=80000)
    made = make_certification(catalogue.farms["hien"])
    services.certification_decide(certification=made, by=catalogue.official, decision="approve")
    found = product_catalogue(
        q="phong dien",
        category=2,
        wards=["Nhơn Ái"],
        certifications=["vietgap"],
        min_price=40000,
        max_price=46000,  # Chôm chôm Thái costs 48.000 ₫
        in_stock=True,
        available="now",
        ordering="price",
    )
    assert names(found) == ["Măng cụt"]


def test_one_households_listings(catalogue):
    farm = catalogue.farms["thao"]
    assert names(product_catalogue(farm=farm, q="dừa")) == ["Dừa xiêm", "Dứa Cầu Đúc", "Dưa lưới"]
    assert names(product_catalogue(farm=farm, q="sau rieng")) == []


def test_suspension_hides_listings_from_search_at_once(catalogue):
    farm = catalogue.farms["thao"]
    assert names(product_catalogue(q="dua")) != []
    services.farm_suspend(farm=farm, by=catalogue.official, reason="Kiểm tra chất lượng")
    assert names(product_catalogue(q="dua")) == []
    assert names(product_catalogue(wards=["cai rang"])) == []
    services.farm_reinstate(farm=farm, by=catalogue.official)
    assert names(product_catalogue(q="dua")) == ["Dứa Cầu Đúc", "Dưa lưới", "Dừa xiêm"]


def test_drafts_and_paused_listings_are_not_found(catalogue):
    farm = catalogue.farms["thao"]
    make_product(farm, name="Dừa sáp", category=206)  # a draft
    services.product_update(product=catalogue.products["Dưa lưới"], status="paused")
    assert names(product_catalogue(q="dua")) == ["Dứa Cầu Đúc", "Dừa xiêm"]


# --- Query-string parameters ------------------------------------------------------------------


def test_catalogue_params_parse_every_value():
    query = QueryDict(
        "q=s%E1%BA%A7u+ri%C3%AAng&category=2&ward=31153&ward=phong+dien&certification=VietGAP,ocop4"
        "&min_price=20.000&max_price=80000&in_stock=true&available=now&ordering=-price"
    )
    assert catalogue_params(query) == {
        "q": "sầu riêng",
        "category": 2,
        "wards": ("31153", "phong dien"),
        "certifications": ("vietgap", "ocop4"),
        "min_price": 20000,
        "max_price": 80000,
        "in_stock": True,
        "available": "now",
        "ordering": "-price",
    }
    assert catalogue_params(QueryDict("")) == {
        "q": "",
        "category": None,
        "wards": (),
        "certifications": (),
        "min_price": None,
        "max_price": None,
        "in_stock": False,
        "available": None,
        "ordering": "",
    }
    assert catalogue_params({"min_price": "125,000", "in_stock": "0"})["min_price"] == 125000


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_price=abc", "min_price"),
        ("max_price=12.5", "max_price"),
        ("min_price=-5", "min_price"),
        ("max_price=" + "9" * 30, "max_price"),
        ("min_price=50000&max_price=20000", "max_price"),
        ("ordering=cheapest", "ordering"),
        ("certification=iso9001", "certification"),
        ("certification=ocop6", "certification"),
        ("available=later", "available"),
        ("in_stock=maybe", "in_stock"),
        ("category=fruit", "category"),
        ("category=%C2%B2", "category"),
        ("q=" + "a" * 101, "q"),
        ("ward=" + "&ward=".join(str(31100 + n) for n in range(21)), "ward"),
    ],
)
def test_catalogue_params_refuse_bad_values(query, field):
    with pytest.raises(ValidationError) as caught:
        catalogue_params(QueryDict(query))
    assert set(caught.value.message_dict) == {field}
    assert caught.value.message_dict[field][0]


def test_rebuild_search_repairs_columns_edited_behind_the_services(make_user):
    from io import StringIO

    from django.core.management import call_command

    from farms.models import Product

    from .factories import make_farm, make_product

    product = make_product(make_farm(make_user), name="Sầu riêng Ri6", status="active")
    Product.objects.filter(pk=product.pk).update(search_document="", search_name="", search_name_folded="")
    output = StringIO()
    call_command("rebuild_search", stdout=output)
    product.refresh_from_db()
    assert " sau rieng " in product.search_document and "listings" in output.getvalue()
