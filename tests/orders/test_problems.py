"""Problems after delivery (issue #7, item 6): reports within the window, answers by the household
or staff, refunds the way the buyer paid, the household's ledger given back, notices once.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image

from logistics.services import shipment_step
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification
from orders import services
from orders.models import FarmOrder, LedgerEntry, OrderNotice, Problem, Refund
from orders.payments import provider_for
from orders.services.ledger import farm_order_settle, settlement_figures
from orders.services.notices import order_notify
from orders.services.problems import problem_decline, problem_report, problem_resolve
from tests.orders.factories import delivery, fill_cart, listings, place

pytestmark = pytest.mark.django_db

HOURS = 48


# --- Helpers (also used by test_completion) ------------------------------------------------------


def deliver(part: FarmOrder, *, weights=None) -> FarmOrder:
    """Pack a part, have the courier pick it up and deliver it (collecting any cash), book its sale."""
    services.farm_order_ready(farm_order=part, by=part.farm.owner, actual_quantities=weights)
    shipment = FarmOrder.objects.get(pk=part.pk).shipment
    shipment_step(shipment=shipment, type="picked_up")
    shipment.refresh_from_db()
    shipment_step(shipment=shipment, type="delivered", cash_collected=shipment.cash_to_collect or None)
    farm_order_settle(farm_order=part)  # the task `settle_after_commit` enqueues
    return FarmOrder.objects.get(pk=part.pk)


def accept_all(order) -> list[FarmOrder]:
    parts = list(order.farm_orders.order_by("pk"))
    for part in parts:
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
    return list(order.farm_orders.order_by("pk"))


def delivered_order(buyer, make_user, *, at, farms=1, per_farm=2, deliver_parts=None, **place_fields):
    """A cash-on-delivery order of 2 kg of each listing (50,000 đồng a kilo), delivered at `at`."""
    products = listings(make_user, farms=farms, per_farm=per_farm, price=50000, stock="10")
    order = place(buyer, [(p, 2) for p in products], **place_fields)
    parts = accept_all(order)
    with time_machine.travel(at, tick=False):
        for part in parts if deliver_parts is None else parts[:deliver_parts]:
            deliver(part)
    order.refresh_from_db()
    return order


def lines_of(order):
    return list(order.farm_orders.order_by("pk").first().lines.order_by("pk"))


def report(order, line, *, quantity="1", kind="damaged", **fields):
    return problem_report(
        order=order, line_id=line.pk, by=order.buyer, kind=kind, quantity=quantity, **fields
    )


def ledger_sums(part) -> dict:
    entries = LedgerEntry.objects.filter(farm_order=part)
    return {name: sum(getattr(e, name) for e in entries) for name in ("gross", "commission", "tax", "net")}


def png_upload(name="photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def vi(message: str, **params) -> str:
    with translation.override("vi"):
        text = gettext(message)
    return text % params if params else text


@pytest.fixture
def delivered_at():
    return timezone.now().replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def order(buyer, make_user, delivered_at):
    return delivered_order(buyer, make_user, at=delivered_at)


@pytest.fixture
def staff(make_user):
    return make_user(Role.STAFF)


# --- Reporting ----------------------------------------------------------------------------------


def test_a_report_is_taken_up_to_the_last_second_of_the_window_and_not_after(order, delivered_at):
    first, second = lines_of(order)
    with time_machine.travel(delivered_at + timedelta(hours=HOURS), tick=False):
        problem = report(order, first, description="Dập hết 1 kg")
    assert (problem.status, problem.quantity, problem.line_id) == ("open", Decimal("1"), first.pk)
    assert problem.farm_order_id == first.farm_order_id and problem.reported_by == order.buyer
    late = delivered_at + timedelta(hours=HOURS, seconds=1)
    with time_machine.travel(late, tick=False), pytest.raises(Conflict) as refused:
        report(order, second)
    assert refused.value.code == "report_window_closed"
    assert Problem.objects.count() == 1


def test_a_part_not_delivered_yet_takes_no_report(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at, farms=2, per_farm=1, deliver_parts=1)
    waiting = order.farm_orders.order_by("pk")[1]
    with pytest.raises(Conflict) as refused:
        report(order, waiting.lines.get())
    assert refused.value.code == "not_delivered"
    report(order, order.farm_orders.order_by("pk")[0].lines.get())  # the delivered part's line: fine


def test_quantity_must_be_more_than_zero_and_at_most_what_was_delivered(order):
    line = lines_of(order)[0]
    for wrong in ("0", "-1", "2.001", "abc"):
        with pytest.raises(ValidationError) as refused:
            report(order, line, quantity=wrong)
        assert list(refused.value.message_dict) == ["quantity"], wrong
    assert report(order, line, quantity="2").quantity == Decimal("2")


def test_a_weighed_line_is_limited_to_the_weight_delivered(buyer, make_user, delivered_at):
    (product,) = listings(make_user, price=50000, stock="10")
    order = place(buyer, [(product, 2)])
    (part,) = accept_all(order)
    line = part.lines.get()
    with time_machine.travel(delivered_at, tick=False):
        deliver(part, weights={str(line.pk): "1.9"})
    with pytest.raises(ValidationError) as refused:
        report(order, line, quantity="1.95")
    assert (
        "1,9 kg" in refused.value.message_dict["quantity"][0]
        or "1.9 kg" in refused.value.message_dict["quantity"][0]
    )
    assert report(order, line, quantity="1.9").quantity == Decimal("1.9")


def test_other_fields_are_checked_with_field_messages(order, make_user):
    line = lines_of(order)[0]
    with pytest.raises(ValidationError) as refused:
        problem_report(
            order=order, line_id=line.pk, by=order.buyer, kind="bad", quantity="1", description="x" * 1001
        )
    assert set(refused.value.message_dict) == {"kind", "description"}
    other = place(make_user(Role.BUYER), [(line.product, 1)])
    with pytest.raises(ValidationError) as refused:
        problem_report(
            order=order,
            line_id=other.farm_orders.get().lines.get().pk,
            by=order.buyer,
            kind="damaged",
            quantity="1",
        )
    assert list(refused.value.message_dict) == ["line"]
    with pytest.raises(PermissionDenied):
        problem_report(order=order, line_id=line.pk, by=make_user(Role.BUYER), kind="damaged", quantity="1")


def test_one_open_report_per_line(order, staff):
    first, second = lines_of(order)
    problem = report(order, first)
    with pytest.raises(Conflict) as refused:
        report(order, first, kind="not_fresh")
    assert (refused.value.code, refused.value.extra["line"]) == ("problem_open", first.pk)
    report(order, second)  # another line is another report
    problem_decline(problem=problem, by=staff, answer="Ảnh cho thấy hàng còn tốt")
    assert report(order, first, kind="not_fresh").status == "open"  # answered: a new report may come
    assert Problem.objects.filter(line=first).count() == 2


def test_a_photo_is_cleaned_and_kept_and_a_non_image_is_refused(order):
    first, second = lines_of(order)
    problem = report(order, first, photo=png_upload())
    assert problem.photo.name.startswith("problems/") and problem.photo.name.endswith(".jpg")
    with problem.photo.open("rb") as handle:
        assert Image.open(handle).format == "JPEG"
    fake = SimpleUploadedFile("x.png", b"<?php echo 1; ?>", content_type="image/png")
    with pytest.raises(ValidationError) as refused:
        report(order, second, photo=fake)
    assert list(refused.value.message_dict) == ["photo"]
    assert not Problem.objects.filter(line=second).exists()


# --- Answering ----------------------------------------------------------------------------------


def test_the_household_resolves_with_a_recorded_cash_refund_and_the_ledger_follows(
    order, django_capture_on_commit_callbacks
):
    part = order.farm_orders.get()
    line = lines_of(order)[0]
    sale = LedgerEntry.objects.get(farm_order=part, kind="sale")
    assert sale.gross == 200002  # 2 kg at 50,000 and 2 kg at 50,001
    problem = report(order, line)
    with django_capture_on_commit_callbacks(execute=True):
        problem_resolve(problem=problem, by=part.farm.owner, refund_amount=30000, answer="Xin lỗi chị")
    problem.refresh_from_db()
    assert (problem.status, problem.refund_amount, problem.answered_by) == (
        "resolved",
        30000,
        part.farm.owner,
    )
    # Cash on delivery: a refund recorded for staff to pay back by hand, pending until they do.
    refund = Refund.objects.get(key=f"problem-{problem.pk}")
    assert (refund.amount, refund.status, refund.payment.method) == (30000, "pending", "cod")
    assert provider_for("cod").refunds_by_hand
    services.refund_send(refund=refund)  # the task changes nothing: staff pay it back
    refund.refresh_from_db()
    assert refund.status == "pending"
    services.refund_mark_sent(refund=refund, by=None, reference="tiền mặt")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"
    reversal = LedgerEntry.objects.get(key=f"refund:{problem.pk}")
    assert reversal.kind == "refund" and reversal.gross == -30000
    assert ledger_sums(part) == settlement_figures(part)
    assert settlement_figures(part)["gross"] == 170002


def test_resolving_twice_refunds_once(order):
    part = order.farm_orders.get()
    problem = report(order, lines_of(order)[0])
    problem_resolve(problem=problem, by=part.farm.owner, refund_amount=10000)
    with pytest.raises(Conflict) as refused:
        problem_resolve(problem=problem, by=part.farm.owner, refund_amount=10000)
    assert refused.value.code == "problem_answered"
    with pytest.raises(Conflict):
        problem_decline(problem=problem, by=part.farm.owner, answer="Không")
    assert Refund.objects.filter(key__startswith="problem-").count() == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_refund_amount_is_from_one_dong_to_what_is_left_of_the_line(order, staff):
    part = order.farm_orders.get()
    line = lines_of(order)[0]  # 2 kg × 50,000 = 100,000 đồng
    problem = report(order, line)
    for wrong in (0, -5, 100001, "nhiều"):
        with pytest.raises(ValidationError) as refused:
            problem_resolve(problem=problem, by=staff, refund_amount=wrong)
        assert list(refused.value.message_dict) == ["refund_amount"], wrong
    problem_resolve(problem=problem, by=staff, refund_amount=60000)
    again = report(order, line)
    with pytest.raises(ValidationError) as refused:
        problem_resolve(problem=again, by=staff, refund_amount=40001)  # only 40,000 left on the line
    assert "40.000" in refused.value.message_dict["refund_amount"][0]
    problem_resolve(problem=again, by=staff, refund_amount=40000)
    third = report(order, line)
    with pytest.raises(ValidationError) as refused:
        problem_resolve(problem=third, by=staff, refund_amount=1)
    assert list(refused.value.message_dict) == ["refund_amount"]
    assert settlement_figures(part)["gross"] == 100002  # the other line only
    assert ledger_sums(part) == settlement_figures(part)


def test_only_the_household_or_staff_answer(order, make_user):
    problem = report(order, lines_of(order)[0])
    for outsider in (order.buyer, make_user(Role.FARMER), make_user(Role.COURIER)):
        with pytest.raises(PermissionDenied):
            problem_resolve(problem=problem, by=outsider, refund_amount=1000)
        with pytest.raises(PermissionDenied):
            problem_decline(problem=problem, by=outsider, answer="Không")
    assert Problem.objects.get().status == "open"


def test_declining_needs_an_answer_and_refunds_nothing(order):
    part = order.farm_orders.get()
    problem = report(order, lines_of(order)[0])
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            problem_decline(problem=problem, by=part.farm.owner, answer=blank)
        assert list(refused.value.message_dict) == ["answer"]
    problem_decline(problem=problem, by=part.farm.owner, answer="Hàng giao đúng, còn tươi")
    problem.refresh_from_db()
    assert (problem.status, problem.answer, problem.refund_amount) == (
        "declined",
        "Hàng giao đúng, còn tươi",
        0,
    )
    assert not Refund.objects.exists()
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == ["sale"]


def test_a_card_order_is_refunded_through_stripe_and_the_ledger_matches(
    buyer, make_user, api_as, stripe_standin, delivered_at, django_capture_on_commit_callbacks
):
    from orders.models import Order

    products = listings(make_user, farms=1, per_farm=2, price=50000, stock="10")
    fill_cart(buyer, [(p, 2) for p in products])
    data = {"delivery": delivery(), "payment_method": "stripe"}
    response = api_as(buyer).post("/api/v1/checkout/", data, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    payment = order.payments.get()
    session = stripe_standin.complete(payment.reference)
    outcome = provider_for("stripe").parse_event(
        payload={"id": "evt_paid", "type": "checkout.session.completed", "data": {"object": session}}
    )
    services.payment_outcome_apply(method="stripe", outcome=outcome)
    (part,) = accept_all(order)
    with time_machine.travel(delivered_at, tick=False):
        deliver(part)
    line = part.lines.order_by("pk").first()
    problem = report(order, line, kind="not_fresh")
    owner = part.farm.owner
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(owner).post(
            f"/api/v1/problems/{problem.pk}/resolve/",
            {"refund_amount": 45000, "answer": "Gửi lại tiền"},
            format="json",
        )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["refund_amount"]) == ("resolved", 45000)
    (refund,) = stripe_standin.all("refund")
    assert (refund["amount"], refund["payment_intent"]) == (45000, session["payment_intent"])
    keys = {r.idempotency_key for r in stripe_standin.requests_to("POST", "/v1/refunds")}
    assert keys == {f"cho-noi-refund-problem-{problem.pk}"}
    stored = Refund.objects.get(key=f"problem-{problem.pk}")
    assert (stored.status, stored.reference) == ("succeeded", refund["id"])
    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"
    assert ledger_sums(part) == settlement_figures(part)
    assert settlement_figures(part)["gross"] == 200002 - 45000


def test_cod_refund_waits_for_the_whole_order_cash_then_is_recorded_once(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at, farms=2, per_farm=1, deliver_parts=1)
    first, second = order.farm_orders.order_by("pk")
    problem = report(order, first.lines.get())
    problem_resolve(problem=problem, by=first.farm.owner, refund_amount=20000)
    # The second part's cash is not in yet: the order's payment is not paid, nothing to refund yet,
    # but the household's ledger already gives the part back.
    assert not Refund.objects.exists()
    assert ledger_sums(first) == settlement_figures(first)
    assert settlement_figures(first)["gross"] == 80000
    with time_machine.travel(delivered_at, tick=False):
        deliver(second)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("delivered", "partially_refunded")
    refund = Refund.objects.get()
    assert (refund.key, refund.amount, refund.status) == (f"problem-{problem.pk}", 20000, "pending")
    from orders.services.problems import problems_refund_due

    assert problems_refund_due(order=order) == 1  # the same refund again: found by its key
    assert Refund.objects.count() == 1


# --- Notices ------------------------------------------------------------------------------------


def test_household_and_buyer_are_told_once(order, django_capture_on_commit_callbacks):
    part = order.farm_orders.get()
    owner = part.farm.owner
    with django_capture_on_commit_callbacks(execute=True):
        problem = report(order, lines_of(order)[0])
    told = Notification.objects.filter(user=owner, url="/farmer/problems/")
    assert told.count() == 1 and order.number in told.get().subject
    with django_capture_on_commit_callbacks(execute=True):
        problem_resolve(problem=problem, by=owner, refund_amount=15000, answer="Xin lỗi")
    resolved = Notification.objects.filter(user=order.buyer, subject__contains=part.farm.name)
    assert resolved.count() == 1 and "15.000" in resolved.get().subject
    assert "Xin lỗi" in resolved.get().body
    # The task runs again (a retry): nothing new is sent.
    for event in ("problem_reported", "problem_resolved"):
        assert order_notify(order=order, event=event, farm_order_ids=[part.pk]) == 0
    keys = set(OrderNotice.objects.filter(key__startswith="problem:").values_list("key", flat=True))
    assert keys == {f"problem:{problem.pk}:reported", f"problem:{problem.pk}:resolved"}
    second = report(order, lines_of(order)[1])
    with django_capture_on_commit_callbacks(execute=True):
        problem_decline(problem=second, by=owner, answer="Hàng còn tốt")
    declined = Notification.objects.filter(user=order.buyer, body__contains="Hàng còn tốt")
    assert declined.count() == 1
    assert order_notify(order=order, event="problem_declined", farm_order_ids=[part.pk]) == 0


# --- API ------------------------------------------------------------------------------------------


def test_api_report_with_a_photo_then_answers_by_who_may(order, api_as, make_user, staff):
    part = order.farm_orders.get()
    first, second = lines_of(order)
    url = f"/api/v1/orders/{order.pk}/problems/"
    response = api_as(order.buyer).post(
        url,
        {"line": first.pk, "kind": "damaged", "quantity": "0.5", "description": "Dập", "photo": png_upload()},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["line"]["id"], body["quantity"], body["status"], body["can_answer"]) == (
        first.pk,
        "0.500",
        "open",
        False,
    )
    # The photo is private: a URL of the checked view, never of public media.
    assert body["photo"] == f"http://testserver/api/v1/problems/{body['id']}/photo/"
    photo = api_as(order.buyer).get(body["photo"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo["Cache-Control"] == "private, no-store"
    assert b"".join(photo.streaming_content)[:2] == b"\xff\xd8"  # a cleaned JPEG
    assert api_as(part.farm.owner).get(body["photo"]).status_code == 200
    assert api_as(make_user(Role.BUYER)).get(body["photo"]).status_code == 404
    assert api_as(make_user(Role.FARMER)).get(body["photo"]).status_code == 404
    assert body["order_number"] == order.number and body["farm"]["name"] == part.farm.name
    pk = body["id"]
    # JSON without a photo; a second report on the same line is a 409.
    again = api_as(order.buyer).post(url, {"line": first.pk, "kind": "other", "quantity": 1}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "problem_open"
    bad = api_as(order.buyer).post(url, {"line": second.pk, "kind": "other", "quantity": "5"}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["quantity"]
    # Someone else's order: 404, and nothing is said about it.
    assert (
        api_as(make_user(Role.BUYER))
        .post(url, {"line": first.pk, "kind": "other", "quantity": 1})
        .status_code
        == 404
    )
    # The buyer reads it but may not answer (403); another household does not see it (404).
    resolve = f"/api/v1/problems/{pk}/resolve/"
    assert api_as(order.buyer).get(f"/api/v1/problems/{pk}/").status_code == 200
    forbidden = api_as(order.buyer).post(resolve, {"refund_amount": 1000}, format="json")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "permission_denied"
    stranger = make_user(Role.FARMER)
    assert api_as(stranger).post(resolve, {"refund_amount": 1000}, format="json").status_code == 404
    assert api_as(stranger).get(f"/api/v1/problems/{pk}/").status_code == 404
    too_much = api_as(part.farm.owner).post(resolve, {"refund_amount": 100001}, format="json")
    assert too_much.status_code == 400 and list(too_much.json()) == ["refund_amount"]
    assert api_as(part.farm.owner).get(f"/api/v1/problems/{pk}/").json()["can_answer"] is True
    done = api_as(part.farm.owner).post(resolve, {"refund_amount": 25000}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    twice = api_as(staff).post(resolve, {"refund_amount": 25000}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "problem_answered"
    # Staff answer a report on any household's part; a decline needs an answer.
    other = api_as(order.buyer).post(
        url, {"line": second.pk, "kind": "missing", "quantity": 1}, format="json"
    )
    decline = f"/api/v1/problems/{other.json()['id']}/decline/"
    blank = api_as(staff).post(decline, {}, format="json")
    assert blank.status_code == 400 and list(blank.json()) == ["answer"]
    declined = api_as(staff).post(decline, {"answer": "Đủ hàng theo ảnh giao"}, format="json")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    # The order's detail shows its reports and until when more may be reported.
    detail = api_as(order.buyer).get(f"/api/v1/orders/{order.pk}/").json()
    (shown,) = detail["farm_orders"]
    assert {p["id"]: p["status"] for p in shown["problems"]} == {
        pk: "resolved",
        other.json()["id"]: "declined",
    }
    assert shown["report_until"] is not None


def test_api_lists_what_each_may_see_in_constant_queries(buyer, make_user, api_as, staff, delivered_at):
    orders = [delivered_order(buyer, make_user, at=delivered_at, per_farm=1)]
    report(orders[0], lines_of(orders[0])[0])
    client = api_as(buyer)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/problems/").json()["count"] == 1
    for _ in range(3):
        extra = delivered_order(buyer, make_user, at=delivered_at, per_farm=1)
        orders.append(extra)
        report(extra, lines_of(extra)[0], photo=png_upload())
    with CaptureQueriesContext(connection) as four:
        rows = client.get("/api/v1/problems/").json()
    assert rows["count"] == 4
    assert len(four) == len(one)
    household = orders[1].farm_orders.get().farm.owner
    assert [r["order"] for r in api_as(household).get("/api/v1/problems/").json()["results"]] == [
        orders[1].pk
    ]
    assert api_as(make_user(Role.BUYER)).get("/api/v1/problems/").json()["count"] == 0
    assert api_as(staff).get("/api/v1/problems/").json()["count"] == 4
    problem = Problem.objects.filter(farm_order__order=orders[2]).get()
    problem_decline(problem=problem, by=staff, answer="Không đúng")
    assert api_as(staff).get("/api/v1/problems/", {"status": "declined"}).json()["count"] == 1
    assert api_as(buyer).get("/api/v1/problems/", {"status": "open"}).json()["count"] == 3
    assert api_as(buyer).get("/api/v1/problems/", {"status": "nope"}).status_code == 400


def test_the_schema_documents_the_problem_endpoints(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/orders/{id}/problems/"]
    assert "multipart/form-data" in paths["/api/v1/orders/{id}/problems/"]["post"]["requestBody"]["content"]
    assert "get" in paths["/api/v1/problems/"] and "get" in paths["/api/v1/problems/{id}/"]
    assert (
        "post" in paths["/api/v1/problems/{id}/resolve/"]
        and "post" in paths["/api/v1/problems/{id}/decline/"]
    )


# --- Pages ----------------------------------------------------------------------------------------


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_buyer_reports_from_the_order_page_and_errors_keep_what_was_typed(order, delivered_at):
    first, second = lines_of(order)
    browser = _browser(order.buyer)
    page = browser.get(f"/don-hang/{order.number}/")
    assert page.content.decode().count(f'action="/don-hang/{order.number}/su-co/"') == 2
    assert vi("Report a problem") in page.content.decode()
    wrong = browser.post(
        f"/don-hang/{order.number}/su-co/",
        {"line": first.pk, "kind": "damaged", "quantity": "9", "description": "Dập nát một nửa"},
    )
    assert wrong.status_code == 400
    text = wrong.content.decode()
    assert "Dập nát một nửa" in text and 'value="9"' in text  # nothing typed is lost
    assert (
        "kg" in text
        and vi("At most what was delivered: %(delivered)s — you entered %(quantity)s.")[:10] in text
    )
    done = browser.post(
        f"/don-hang/{order.number}/su-co/",
        {"line": first.pk, "kind": "damaged", "quantity": "1", "description": "Dập", "photo": png_upload()},
    )
    assert done.status_code == 302 and done["Location"] == f"/don-hang/{order.number}/"
    problem = Problem.objects.get()
    assert (problem.line_id, problem.description, bool(problem.photo)) == (first.pk, "Dập", True)
    page = browser.get(f"/don-hang/{order.number}/")
    assert page.content.decode().count(f'action="/don-hang/{order.number}/su-co/"') == 1  # one waits
    with time_machine.travel(delivered_at + timedelta(hours=HOURS, seconds=1), tick=False):
        late = browser.post(
            f"/don-hang/{order.number}/su-co/", {"line": second.pk, "kind": "other", "quantity": "1"}
        )
        assert late.status_code == 409
        assert vi(
            "Problems can be reported up to %(hours)s hours after delivery; that time is over.", hours=HOURS
        ) in (late.content.decode())
        assert browser.get(f"/don-hang/{order.number}/").content.decode().count("/su-co/") == 0
    assert Client().post(f"/don-hang/{order.number}/su-co/", {"line": first.pk}).status_code == 302  # log in
    assert (
        _browser(Problem.objects.get().farm_order.farm.owner)
        .post(f"/don-hang/{order.number}/su-co/", {"line": second.pk, "kind": "other", "quantity": "1"})
        .status_code
        == 404
    )


def test_the_household_answers_on_its_problems_page(order, make_user):
    first, second = lines_of(order)
    one = report(order, first, description="Hỏng")
    two = report(order, second)
    owner = order.farm_orders.get().farm.owner
    browser = _browser(owner)
    page = browser.get("/farmer/problems/")
    assert page.status_code == 200
    assert "Hỏng" in page.content.decode()
    assert f"/farmer/problems/{one.pk}/resolve/" in page.content.decode()
    too_much = browser.post(
        f"/farmer/problems/{one.pk}/resolve/", {"refund_amount": "150.000", "answer": "Xin lỗi"}
    )
    assert too_much.status_code == 400
    assert "Xin lỗi" in too_much.content.decode() and "150.000" in too_much.content.decode()
    ok = browser.post(f"/farmer/problems/{one.pk}/resolve/", {"refund_amount": "50.000", "answer": "Xin lỗi"})
    assert ok.status_code == 302
    one.refresh_from_db()
    assert (one.status, one.refund_amount) == ("resolved", 50000)
    blank = browser.post(f"/farmer/problems/{two.pk}/decline/", {"answer": ""})
    assert blank.status_code == 400 and vi("Tell the buyer why, in a few words.") in blank.content.decode()
    assert browser.post(f"/farmer/problems/{two.pk}/decline/", {"answer": "Đủ hàng"}).status_code == 302
    assert Problem.objects.get(pk=two.pk).status == "declined"
    stranger = _browser(make_user(Role.FARMER))
    assert stranger.post(f"/farmer/problems/{one.pk}/resolve/", {"refund_amount": "1"}).status_code == 404
    assert _browser(order.buyer).get("/farmer/problems/").status_code == 403


def test_the_households_problem_page_queries_do_not_grow(buyer, make_user, delivered_at):
    first = delivered_order(buyer, make_user, at=delivered_at, per_farm=1)
    report(first, lines_of(first)[0])
    farm = first.farm_orders.get().farm
    browser = _browser(farm.owner)
    browser.get("/farmer/problems/")
    with CaptureQueriesContext(connection) as one:
        browser.get("/farmer/problems/")
    product = first.farm_orders.get().lines.get().product
    for _ in range(3):
        order = place(make_user(Role.BUYER), [(product, 1)])
        (part,) = accept_all(order)
        with time_machine.travel(delivered_at, tick=False):
            deliver(part)
        report(order, part.lines.get(), quantity="1")
    with CaptureQueriesContext(connection) as four:
        page = browser.get("/farmer/problems/")
    assert page.content.decode().count("/resolve/") == 4
    assert len(four) == len(one)


def test_staff_answer_in_the_admin(order, staff):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.get(pk=staff.pk)
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    problem = report(order, lines_of(order)[0])
    browser = _browser(admin_user)
    url = f"/admin/orders/problem/{problem.pk}/change/"
    assert browser.get("/admin/orders/problem/?status__exact=open").status_code == 200
    wrong = browser.post(url, {"decision": "resolve", "amount": "999999", "reply": ""})
    assert wrong.status_code == 200 and Problem.objects.get().status == "open"
    done = browser.post(url, {"decision": "resolve", "amount": "12000", "reply": "Hoàn tiền"})
    assert done.status_code == 302
    problem.refresh_from_db()
    assert (problem.status, problem.refund_amount, problem.answered_by_id) == ("resolved", 12000, staff.pk)
    assert LedgerEntry.objects.filter(key=f"refund:{problem.pk}").exists()
