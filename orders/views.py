"""Order pages: checkout, the buyer's orders with their timeline, the household's orders.

Pages call the same services as the API; a refusal (409) is explained on the page.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.accounts.phone import format_phone
from marketplace.errors import Conflict
from marketplace.throttling import rate_limit_wait, throttled_page, too_many_attempts_message

from . import services
from .forms import CancelForm, CheckoutForm, RejectForm
from .models import FarmOrderStatus, Order, OrderStatus, PaymentMethod
from .payments import provider_for
from .selectors import farm_orders_of_household, order_of_buyer, orders_of_buyer
from .services.fulfilment import BUYER_CANCELLABLE, farm_order_deadline
from .templatetags.order_tags import order_status
from .views_problems import problem_context

PAGE_SIZE = 20
farmer_only = role_required(Role.FARMER)


def _last_delivery(user) -> dict:
    """Prefill checkout from the buyer's last order, else from the account."""
    last = Order.objects.filter(buyer=user).order_by("-created_at").first()
    if last is not None:
        return {
            "name": last.delivery_name,
            "phone": format_phone(last.delivery_phone),
            "address": last.delivery_address,
            "ward": last.delivery_ward_id,
        }
    return {"name": user.full_name, "phone": format_phone(user.phone)}


@login_required
def checkout(request):
    """Show the order, the delivery fee for the chosen ward and the payment; place it on submit.

    The "quote" button only recomputes the fee for another ward; the order button places it.
    """
    posted = request.method == "POST"
    initial = _last_delivery(request.user)
    ward = request.POST.get("ward") if posted else initial.get("ward")
    quote = services.checkout_quote(buyer=request.user, ward=services.ward_for_code(ward))
    if quote.is_empty:
        messages.info(request, _("Your cart is empty."))
        return redirect("storefront:cart")
    placing = posted and "quote" not in request.POST
    # Over the limit: place nothing, show the form again as the buyer filled it (like a fee quote).
    wait = rate_limit_wait(request, "checkout") if placing else None
    placing = placing and not wait
    defaults = {**initial, "cart_version": quote.detail.version, "payment_method": "cod"}
    if posted and not placing:
        # A fee quote keeps what the buyer typed, without judging a form they have not finished.
        defaults.update(
            {key: value for key, value in request.POST.items() if key in CheckoutForm.base_fields}
        )
        defaults["cart_version"] = quote.detail.version
    form = CheckoutForm(request.POST if placing else None, methods=quote.methods, initial=defaults)
    status = 200
    if placing and form.is_valid():
        data = form.cleaned_data
        try:
            delivery = services.delivery_parse(
                name=data["name"], phone=data["phone"], address=data["address"], ward=data["ward"]
            )
            placed = services.checkout_place(
                buyer=request.user,
                delivery=delivery,
                payment_method=data["payment_method"],
                note=data["note"],
                delivery_date=data["delivery_date"],
                cart_version=data["cart_version"] or None,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
            status = 409
            # Show the cart as it is now; the buyer confirms the new version by ordering again.
            quote = services.checkout_quote(buyer=request.user, ward=data["ward"])
            form.data = form.data.copy()
            form.data["cart_version"] = quote.detail.version if quote.detail else ""
            if quote.is_empty:
                messages.error(request, str(exc.message))
                return redirect("storefront:cart")
        else:
            if placed.payment_start.redirect_url:
                return redirect(placed.payment_start.redirect_url)
            messages.success(
                request, _("Thank you! Order %(number)s is placed.") % {"number": placed.order.number}
            )
            return redirect("orders:detail", number=placed.order.number)
    if placing and form.errors and status == 200:
        status = 400
    unavailable = [m for m in quote.methods if not m.available]
    context = {
        "form": form,
        "quote": quote,
        "unavailable_methods": unavailable,
        # No way to pay, or lines to fix first: the page explains, and offers no order button.
        "can_place": len(unavailable) < len(quote.methods) and not quote.problems and not quote.refusal,
    }
    if wait:
        context["throttled_message"] = too_many_attempts_message(wait)
        return throttled_page(render(request, "orders/checkout.html", context), wait)
    return render(request, "orders/checkout.html", context, status=status)


def _timeline(order, parts) -> list[SimpleNamespace]:
    """Return the order's timeline, oldest first: `at`, `farm` (None for the order), `label`, `note`.

    Every order is written `pending_payment` first and confirmed by its payment's start. Cash on
    delivery is confirmed in that same checkout, so it never waited for a payment: its first row
    reads "Order placed", not "Awaiting payment". A card or transfer order keeps its waiting step.
    """
    farms = {fo.pk: fo.farm for fo in parts}
    confirmed_at_once = order.payment_method == PaymentMethod.COD
    entries = []
    for change in order.status_changes.all():
        farm = farms.get(change.farm_order_id)
        label, note = order_status(change.to_status, farm), change.note
        if confirmed_at_once and farm is None and not change.from_status:
            label, note = _("Order placed"), ""
        entries.append(SimpleNamespace(at=change.at, farm=farm, label=label, note=note))
    # "On the way" moves no status, yet the buyer wants to see it (issue #7): the carrier's steps.
    entries += [
        SimpleNamespace(at=event.at, farm=fo.farm, label=str(event.get_type_display()), note="")
        for fo in parts
        if fo.shipment is not None
        for event in fo.shipment.events.all()
        if event.type == "in_transit"
    ]
    entries.sort(key=lambda entry: entry.at)
    return entries


def _cancel_choice(parts) -> SimpleNamespace | None:
    """Return what the buyer can still cancel (`parts`, `kept`, `whole`, `label`), or None."""
    cancellable = [fo for fo in parts if fo.status in BUYER_CANCELLABLE]
    if not cancellable:
        return None
    ended = (FarmOrderStatus.CANCELLED, FarmOrderStatus.REJECTED)
    kept = [fo for fo in parts if fo.status not in BUYER_CANCELLABLE and fo.status not in ended]
    return SimpleNamespace(
        parts=cancellable,
        kept=kept,
        whole=not kept,
        subtotal=sum(fo.subtotal for fo in cancellable),
        label=_("Cancel the order") if not kept else _("Cancel the parts not yet accepted"),
    )


@login_required
def order_list(request):
    page = Paginator(orders_of_buyer(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page})


@login_required
def order_detail(request, number: str):
    order = order_of_buyer(user=request.user, number=number)
    if order is None:
        raise Http404
    # Coming back from the payment page: the webhook, not this redirect, decides it is paid.
    back = request.GET.get("payment")
    if back == "done" and order.status == "pending_payment":
        messages.info(
            request,
            _("Thank you! Your payment is being confirmed; this page shows it once the bank tells us."),
        )
    elif back == "cancelled" and order.status == "pending_payment":
        messages.warning(
            request, _("The payment was not completed. You can pay again while the order is held.")
        )
    parts = list(order.farm_orders.all())
    payment = next(iter(order.payments.all()), None)
    qr = None
    if payment is not None and payment.method == "vietqr" and payment.status == "pending":
        from .payments.vietqr import payload_for, png_data_url

        payload = payload_for(payment)
        qr = {"payload": payload, "png": png_data_url(payload)}
    context = {
        "order": order,
        "parts": parts,
        "timeline": _timeline(order, parts),
        "payment": payment,
        "instructions": provider_for(payment.method).instructions(payment=payment) if payment else "",
        "qr": qr,
        "held_until": order.created_at + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
        "cancel": _cancel_choice(parts),
    }
    problem_context(request, order, parts)  # a report form on each line still in its window (#7)
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def order_pay(request, number: str):
    """Send the buyer to the payment page of an unpaid order (the open one, or a fresh one)."""
    order = orders_of_buyer(user=request.user).filter(number=number).first()
    if order is None:
        raise Http404
    try:
        payment = services.order_pay_again(order=order, by=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("orders:detail", number=order.number)
    if payment.pay_url:
        return redirect(payment.pay_url)
    if provider_for(payment.method).online:
        messages.error(request, _("The card payment page could not be opened. Try paying again in a moment."))
    return redirect("orders:detail", number=order.number)


@login_required
def order_cancel(request, number: str):
    """Cancel the parts no household has accepted yet, after the buyer confirms.

    GET shows what would be cancelled and what goes ahead, with a reason box; only the POST
    from that page cancels. The form names the parts it showed, so a part a household accepted
    in between is not cancelled behind the buyer's back (409 message, the order page again).
    """
    order = order_of_buyer(user=request.user, number=number)
    if order is None:
        raise Http404
    parts = list(order.farm_orders.all())
    choice = _cancel_choice(parts)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return _cancel_page(request, order, choice, form, status=400)
        ids = [int(pk) for pk in request.POST.getlist("farm_order") if pk.isascii() and pk.isdigit()] or None
        try:
            services.order_cancel(
                order=order, by=request.user, reason=form.cleaned_data["reason"], farm_order_ids=ids
            )
        except (Conflict, ValidationError) as exc:
            messages.error(request, str(exc.message) if isinstance(exc, Conflict) else " ".join(exc.messages))
        else:
            messages.success(request, _("Cancelled. Nothing is owed for the cancelled items."))
        return redirect("orders:detail", number=order.number)
    if choice is None:
        if order.status == OrderStatus.CANCELLED:
            why = _("This order is already cancelled.")
        else:
            why = _("A household has already accepted this order, so it can no longer be cancelled here.")
        messages.info(request, why)
        return redirect("orders:detail", number=order.number)
    return _cancel_page(request, order, choice, form)


def _cancel_page(request, order, choice, form, *, status=200):
    if choice is None:  # nothing left to cancel while the form was being filled in
        return redirect("orders:detail", number=order.number)
    context = {"order": order, "cancel": choice, "form": form}
    return render(request, "orders/order_cancel.html", context, status=status)


@farmer_only
def farm_order_list(request):
    qs = farm_orders_of_household(user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for part in page.object_list:
        part.deadline = farm_order_deadline(part)
    return render(request, "orders/farm_orders.html", {"page": page, "reject_form": RejectForm()})


def _own_farm_order(request, pk: int):
    farm_order = farm_orders_of_household(user=request.user).filter(pk=pk).first()
    if farm_order is None:
        raise Http404
    return farm_order


@farmer_only
@require_POST
def farm_order_accept(request, pk: int):
    farm_order = _own_farm_order(request, pk)
    try:
        services.farm_order_accept(farm_order=farm_order, by=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Order %(number)s accepted.") % {"number": farm_order.order.number})
    return redirect("orders:farm_orders")


@farmer_only
@require_POST
def farm_order_ready(request, pk: int):
    """Packed: ready for pickup, with the weights typed for lines sold by weight (blank: as ordered)."""
    farm_order = _own_farm_order(request, pk)
    weights = {
        key.removeprefix("weight_"): value.strip()
        for key, value in request.POST.items()
        if key.startswith("weight_") and value.strip()
    }
    try:
        services.farm_order_ready(farm_order=farm_order, by=request.user, actual_quantities=weights)
    except ValidationError as exc:
        problems = [m for errors in exc.message_dict.get("actual_quantities", []) for m in _flat(errors)]
        messages.error(request, " ".join(problems) or " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("Order %(number)s is ready for pickup.") % {"number": farm_order.order.number}
        )
    return redirect("orders:farm_orders")


def _flat(errors) -> list[str]:
    if isinstance(errors, dict):
        return [str(m) for messages_ in errors.values() for m in messages_]
    return [str(errors)]


@farmer_only
@require_POST
def farm_order_reject(request, pk: int):
    farm_order = _own_farm_order(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tell the buyer why, in a few words."))
        return redirect("orders:farm_orders")
    try:
        services.farm_order_reject(farm_order=farm_order, by=request.user, reason=form.cleaned_data["reason"])
    except (Conflict, ValidationError) as exc:
        messages.error(request, str(exc.message) if isinstance(exc, Conflict) else " ".join(exc.messages))
    else:
        messages.success(
            request, _("Order %(number)s rejected; the stock is back.") % {"number": farm_order.order.number}
        )
    return redirect("orders:farm_orders")
