"""A person's notices are written in the language they use the site in (`User.language`)."""

from farms.services import farm_decide
from marketplace.accounts.models import Role, User
from marketplace.notifications.models import Notification
from tests.accounts.test_pages import signup_form
from tests.farms.factories import make_farm
from tests.orders.factories import listings, place
from tests.signup import after_commit, page_sign_up


def test_signing_up_in_english_keeps_english_and_vietnamese_is_the_default(
    client, db, sms_outbox
):
    page_sign_up(client, sms_outbox, signup_form())
    assert User.objects.get(phone="+84912345678").language == "vi"
    assert "mã" in sms_outbox.messages()[-1]["body"]  # the code's SMS in Vietnamese
    client.post("/account/logout/")
    client.cookies["cho_noi_language"] = "en"
    page_sign_up(client, sms_outbox, signup_form(phone="0912 345 679"))
    assert User.objects.get(phone="+84912345679").language == "en"
    assert "your code is" in sms_outbox.messages()[-1]["body"]


def test_the_switcher_keeps_a_signed_in_persons_choice_and_ignores_unknown_ones(client, make_user):
    user = make_user(Role.BUYER)
    client.force_login(user)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    client.logout()
    assert client.post("/i18n/setlang/", {"language": "vi", "next": "/"}).status_code == 302  # anonymous


def test_a_household_is_told_in_its_language_whatever_the_official_uses(make_user):
    official = make_user(Role.OFFICIAL, city_wide=True)
    english = make_farm(make_user, verified=False, owner=make_user(Role.FARMER, language="en"))
    vietnamese = make_farm(make_user, verified=False, name="Hộ bà Năm", ward_index=1)
    for farm in (english, vietnamese):
        farm_decide(farm=farm, by=official, decision="approve")
    assert Notification.objects.get(user=english.owner).subject == "Your household is verified"
    assert Notification.objects.get(user=vietnamese.owner).subject == "Nông hộ của bạn đã được xác minh"


def test_one_order_is_told_to_each_reader_in_their_own_language(
    make_user
):
    buyer = make_user(Role.BUYER, language="en")
    (product,) = listings(make_user)
    owner = product.farm.owner
    told = set(Notification.objects.filter(user=owner).values_list("pk", flat=True))  # its verification
    with after_commit(execute=True):
        order = place(buyer, [(product, 2)])
    assert Notification.objects.get(user=buyer).subject == f"Order {order.number} received"
    (new,) = Notification.objects.filter(user=owner).exclude(pk__in=told)
    assert new.subject == f"Đơn hàng mới {order.number}"


def test_a_language_no_longer_offered_falls_back_to_vietnamese_not_to_silence(
    make_user
):
    buyer = make_user(Role.BUYER, language="fr")
    (product,) = listings(make_user)
    with after_commit(execute=True):
        order = place(buyer, [(product, 1)])
    assert Notification.objects.get(user=buyer).subject == f"Đơn hàng {order.number} đã được tiếp nhận"
