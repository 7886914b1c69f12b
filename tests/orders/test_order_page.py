"""The buyer's order page: a timeline that tells how the order really went, and a cancel step.

Cash on delivery is confirmed at checkout, so its timeline never says it waited for a payment;
a card or bank-transfer order does wait, and says so. Cancelling is two steps without any
script: the order page links to a page that shows what would be cancelled and what goes ahead,
with a labelled reason box; only the POST from that page cancels.
"""

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from marketplace.accounts.models import Role
from orders.models import FarmOrder, FarmOrderStatus, OrderStatus, StatusChange
from tests.farms.test_pages import assert_fits_a_phone
from tests.storefront.helpers import listing

from .factories import place
from .test_pages import cancel_form, en, messages_of, plain, text_of, timeline, vi

pytestmark = pytest.mark.django_db


def english(client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def detail(browser, order):
    page = browser.get(f"/don-hang/{order.number}/")
    assert page.status_code == 200
    return page


def cancel_url(order) -> str:
    return f"/don-hang/{order.number}/huy/"


def statuses(order) -> dict[str, str]:
    return dict(FarmOrder.objects.filter(order=order).values_list("farm__name", "status"))


def textarea(page, name: str) -> str:
    """Return the <textarea name=...> tag (its opening tag), with the <label> that names it."""
    markup = page.content.decode()
    tag = re.search(rf'<textarea name="{name}"[^>]*>', markup)
    assert tag, f"no textarea {name}"
    found_id = re.search(r'id="([^"]+)"', tag.group(0))
    assert found_id and f'<label for="{found_id.group(1)}"' in markup, "the reason box has no label"
    return tag.group(0)


# --- The timeline ------------------------------------------------------------------------


def test_a_cash_on_delivery_timeline_never_waits_for_a_payment(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    # The data says every order starts pending: the page must not read that row as a wait.
    assert StatusChange.objects.filter(order=order, to_status=OrderStatus.PENDING_PAYMENT).exists()
    entries = timeline(detail(browser, order))
    assert entries == [vi("Order placed"), vi("Confirmed"), f"{farm.name}: {vi('New')}"]
    assert not [entry for entry in entries if vi("Awaiting payment") in entry]
    entries_en = timeline(detail(english(browser), order))
    assert entries_en == ["Order placed", "Confirmed", f"{farm.name}: New"]
    assert not [entry for entry in entries_en if "Awaiting payment" in entry]


def test_a_bank_transfer_order_shows_its_awaiting_payment_step(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")], payment_method="vietqr")
    assert timeline(detail(browser, order))[0] == f"{vi('Awaiting payment')} ({vi('Order placed.')})"
    assert timeline(detail(english(browser), order))[0] == "Awaiting payment (Order placed.)"


def test_a_card_order_shows_its_awaiting_payment_step(browser, buyer, farm, stripe_standin):
    order = place(buyer, [(listing(farm, stock="10"), "1")], payment_method="stripe")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert timeline(detail(browser, order)) == [f"{vi('Awaiting payment')} ({vi('Order placed.')})"]
    assert timeline(detail(english(browser), order)) == ["Awaiting payment (Order placed.)"]


# --- The cancel step ---------------------------------------------------------------------


def test_cancelling_asks_first_and_only_the_confirmation_cancels(browser, buyer, farm, other_farm):
    durian = listing(farm, price=50000, stock="10")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    order = place(buyer, [(durian, "2"), (pomelo, "1")])

    page = detail(browser, order)
    markup = page.content.decode()
    # One link to the step, no form that cancels in one tap, no script to ask "are you sure?".
    assert (
        f'<a class="button secondary danger-outline" href="{cancel_url(order)}">{vi("Cancel the order")}</a>'
        in (text_of(page))
    )
    assert f'action="{cancel_url(order)}"' not in markup
    assert_fits_a_phone(f"/don-hang/{order.number}/", markup)

    step = browser.get(cancel_url(order))
    assert step.status_code == 200
    assert_fits_a_phone(cancel_url(order), step.content.decode())
    assert statuses(order) == {farm.name: FarmOrderStatus.NEW, other_farm.name: FarmOrderStatus.NEW}
    text = plain(step)
    assert vi("Cancel order %(number)s?", number=order.number) in text
    assert f"{farm.name} : Sầu riêng Ri6 2 kg · 100.000 ₫" in text
    assert f"{other_farm.name} : Bưởi da xanh 1 kg · 30.000 ₫" in text
    assert f"{vi('Goods cancelled:')} 130.000 ₫" in text
    assert f'<button type="submit" class="button danger">{vi("Cancel the order")}</button>' in text_of(step)
    assert f'href="/don-hang/{order.number}/">{vi("Keep the order")}</a>' in text_of(step)
    reason_box = textarea(step, "reason")
    assert 'rows="3"' in reason_box and 'maxlength="500"' in reason_box

    done = browser.post(
        cancel_url(order), cancel_form(step, reason="Nhà có việc, không ai nhận hàng"), follow=True
    )
    assert done.redirect_chain == [(f"/don-hang/{order.number}/", 302)]
    assert messages_of(done) == [vi("Cancelled. Nothing is owed for the cancelled items.")]
    assert statuses(order) == {
        farm.name: FarmOrderStatus.CANCELLED,
        other_farm.name: FarmOrderStatus.CANCELLED,
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_reason_reaches_the_order_and_its_timeline(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    step = browser.get(cancel_url(order))
    reason = "Đặt nhầm <b>số lượng</b>"
    browser.post(cancel_url(order), cancel_form(step, reason=reason))
    notes = StatusChange.objects.filter(
        order=order, to_status=FarmOrderStatus.CANCELLED, farm_order__isnull=False
    )
    assert list(notes.values_list("note", flat=True)) == [reason]
    page = detail(browser, order)
    assert f"{farm.name}: {vi('Cancelled')} ({reason})" in timeline(page)
    assert "<b>số lượng</b>" not in page.content.decode()  # shown as text, never as markup


def test_a_reason_too_long_is_explained_on_the_step_and_cancels_nothing(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    step = browser.get(cancel_url(order))
    refused = browser.post(cancel_url(order), cancel_form(step, reason="x" * 501))
    assert refused.status_code == 400
    assert 'class="error" role="alert"' in refused.content.decode()
    assert "x" * 501 in refused.content.decode()  # what was typed stays in the box
    assert statuses(order) == {farm.name: FarmOrderStatus.NEW}


def test_only_the_parts_not_yet_accepted_are_offered_and_named(browser, buyer, farm, other_farm):
    durian = listing(farm, price=50000, stock="10")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    order = place(buyer, [(durian, "2"), (pomelo, "1")])
    accepted = order.farm_orders.get(farm=farm)
    owner = Client()
    owner.force_login(farm.owner)
    assert owner.post(f"/farmer/orders/{accepted.pk}/accept/").status_code == 302

    partial = vi("Cancel the parts not yet accepted")
    assert partial in text_of(detail(browser, order))
    step = browser.get(cancel_url(order))
    text = plain(step)
    assert vi("Cancel part of order %(number)s?", number=order.number) in text
    will_go, goes_ahead = text.split(vi("Goes ahead: the household has accepted it"))
    assert (
        other_farm.name in will_go.split(vi("Will be cancelled"))[1]
        and farm.name not in will_go.split(vi("Will be cancelled"))[1]
    )
    assert farm.name in goes_ahead and other_farm.name not in goes_ahead
    assert f'<button type="submit" class="button danger">{partial}</button>' in text_of(step)
    assert cancel_form(step)["farm_order"] == [str(order.farm_orders.get(farm=other_farm).pk)]

    browser.post(cancel_url(order), cancel_form(step))
    assert statuses(order) == {
        farm.name: FarmOrderStatus.ACCEPTED,
        other_farm.name: FarmOrderStatus.CANCELLED,
    }


def test_a_part_accepted_after_the_step_was_shown_is_not_cancelled_behind_the_buyers_back(
    browser, buyer, farm, other_farm
):
    durian = listing(farm, price=50000, stock="10")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    order = place(buyer, [(durian, "2"), (pomelo, "1")])
    step = browser.get(cancel_url(order))  # shows both parts to cancel: the whole order
    owner = Client()
    owner.force_login(farm.owner)
    assert owner.post(f"/farmer/orders/{order.farm_orders.get(farm=farm).pk}/accept/").status_code == 302

    done = browser.post(cancel_url(order), cancel_form(step), follow=True)
    assert messages_of(done) == [vi("Only parts no household has accepted yet can be cancelled.")]
    assert statuses(order) == {farm.name: FarmOrderStatus.ACCEPTED, other_farm.name: FarmOrderStatus.NEW}


def test_the_step_of_an_order_that_can_no_longer_be_cancelled_says_why(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    step = browser.get(cancel_url(order))
    assert messages_of(browser.post(cancel_url(order), cancel_form(step), follow=True)) == [
        vi("Cancelled. Nothing is owed for the cancelled items.")
    ]
    again = browser.get(cancel_url(order), follow=True)
    assert again.redirect_chain == [(f"/don-hang/{order.number}/", 302)]
    assert messages_of(again) == [vi("This order is already cancelled.")]
    assert cancel_url(order) not in again.content.decode()


def test_someone_elses_cancel_step_is_not_found(client, buyer, farm, make_user):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    client.force_login(make_user(Role.BUYER))
    assert client.get(cancel_url(order)).status_code == 404
    assert client.post(cancel_url(order), {"reason": "x"}).status_code == 404
    assert statuses(order) == {farm.name: FarmOrderStatus.NEW}


def test_the_cancel_step_in_english(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    page = detail(english(browser), order)
    assert ">Cancel the order</a>" in text_of(page)
    step = browser.get(cancel_url(order))
    text = text_of(step)
    assert '<html lang="en">' in text and f"<h1>Cancel order {order.number}?</h1>" in text
    assert ">Why are you cancelling? (optional):</label>" in text
    assert ">Cancel the order</button>" in text and ">Keep the order</a>" in text
    assert en("Will be cancelled") in text


def test_the_cancel_step_speaks_vietnamese_by_default(browser, buyer, farm):
    order = place(buyer, [(listing(farm, stock="10"), "1")])
    for page in (detail(browser, order), browser.get(cancel_url(order))):
        text = text_of(page)
        assert '<html lang="vi">' in text
        for english_text in ("Cancel the order", "Keep the order", "Why are you cancelling", "Order placed"):
            assert english_text not in text
