"""Storefront pages: home, category and search results, listing, household, cart.

The catalogue shows only listings on `products_public()`: active, of a verified household
that is not suspended. Filters and sorting live in the URL (`farms.search.catalogue_params`),
so a result page can be shared; a bad value is explained on the page, never a 500.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from farms.models import ImageStatus
from farms.search import catalogue_params, product_catalogue
from marketplace.errors import Conflict
from orders.models import PaymentMethod
from orders.payments import available_methods
from orders.services import cart_add, cart_line_remove, cart_line_set_quantity, cart_show, quantity_text
from orders.sessions import session_cart

from .forms import CatalogueFilterForm, QuantityForm, plain_number
from .selectors import cart_line_in, category_index, farm_public, home_lists, product_public

PAGE_SIZE = 24
MAX_PAGE_SIZE = 100  # as the API: `?page_size=` from 1 to 100
#: Query-string names of the filters (besides `q`); anything else (page, ordering) is not a filter.
FILTERS = ("category", "ward", "certification", "min_price", "max_price", "in_stock", "available")


def _page_size(request) -> int:
    """Return the page size asked for in the URL (1 to 100), or the default."""
    try:
        size = int(request.GET.get("page_size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if 1 <= size <= MAX_PAGE_SIZE else PAGE_SIZE


def _page_links(query) -> str:
    """Return the start of a pagination link that keeps every filter: `?q=...&` or `?`."""
    query = query.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return f"?{encoded}&" if encoded else "?"


def _catalogue(request, *, categories=None, **fixed) -> tuple[dict, int]:
    """Parse the URL's filters, list the matching page of listings; explain bad values (400)."""
    query = request.GET.copy()
    for name in fixed:
        query.pop(name, None)  # the page itself sets it (the category of a category page)
    form = CatalogueFilterForm(query, categories=categories)
    context = {
        "form": form,
        "page": None,
        "page_links": _page_links(query),
        "filtered": any(query.get(name) for name in FILTERS),
        # Clearing the filters keeps the search words.
        "clear_url": f"{request.path}?{urlencode({'q': query['q']})}" if query.get("q") else request.path,
    }
    try:
        params = catalogue_params(query)
    except ValidationError as exc:
        context["filter_errors"] = [
            (form.fields[name].label if name in form.fields else name, errors)
            for name, errors in exc.message_dict.items()
        ]
        context["error_fields"] = set(exc.message_dict)
        return context, 400
    params.update(fixed)
    context["category_id"] = params["category"]
    paginator = Paginator(product_catalogue(**params), _page_size(request))
    context["page"] = paginator.get_page(request.GET.get("page"))
    return context, 200


#: How a sentence names each payment method ("Pay by cash on delivery, card or ...").
PAY_BY = {
    PaymentMethod.COD: gettext_lazy("cash on delivery"),
    PaymentMethod.STRIPE: gettext_lazy("card"),
    PaymentMethod.VIETQR: gettext_lazy("bank transfer (VietQR)"),
}


def payment_methods_text() -> str:
    """Return "Pay by cash on delivery or bank transfer (VietQR)." for the methods checkout offers now.

    The methods come from `orders.payments.available_methods`, the function checkout offers
    them from, so the home page never promises a method checkout hides (a card without keys).
    """
    names = [
        str(PAY_BY.get(method) or (PaymentMethod(method).label if method in PaymentMethod.values else method))
        for method in available_methods()
    ]
    return _("Pay by %(methods)s.") % {"methods": get_text_list(names, _("or"))} if names else ""


def home(request):
    """Show what is in season, the categories, the newest listings and certified households."""
    context = {
        "lists": home_lists(),
        "categories": category_index().top,
        "pay_by": payment_methods_text(),
    }
    return render(request, "storefront/home.html", context)


def search(request):
    """Search the catalogue with filters and sorting from the URL."""
    index = category_index()
    context, status = _catalogue(request, categories=index.top)
    context["q"] = request.GET.get("q", "").strip()
    context["category"] = index.by_id.get(context.get("category_id"))
    return render(request, "storefront/search.html", context, status=status)


def category(request, slug: str):
    """List a category's listings, sub-categories included, with the search's filters."""
    index = category_index()
    node = index.by_slug(slug)
    if node is None:
        raise Http404
    context, status = _catalogue(request, category=node.pk)
    context.update({"category": node, "parent": index.parent_of(node)})
    return render(request, "storefront/category.html", context, status=status)


def product(request, pk: int):
    """Show a listing; its form puts a quantity in the visitor's cart (anonymous ones too)."""
    listing = product_public(pk=pk)
    if listing is None:
        raise Http404
    form = QuantityForm(
        request.POST or None, product=listing, initial={"quantity": plain_number(listing.min_order)}
    )
    if request.method == "POST" and form.is_valid():
        quantity = form.cleaned_data["quantity"]
        try:
            cart_add(cart=session_cart(request, create=True), product=listing, quantity=quantity)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(
                request,
                _("Added %(quantity)s of %(product)s to your cart.")
                % {"quantity": quantity_text(quantity, listing.unit), "product": listing.name},
            )
            return redirect("storefront:cart")
    images = listing.images.all()
    photos = [image for image in images if image.status == ImageStatus.READY]
    context = {
        "product": listing,
        "photos": photos,
        "processing": not photos and any(image.status == ImageStatus.PROCESSING for image in images),
        "form": form,
    }
    return render(request, "storefront/product.html", context, status=400 if form.errors else 200)


def farm(request, pk: int):
    """Show a household that sells: its ward, badges, member since, and its listings."""
    household = farm_public(pk=pk)
    if household is None:
        raise Http404
    listings = product_catalogue(farm=household, ordering="newest")
    context = {
        "farm": household,
        "page": Paginator(listings, _page_size(request)).get_page(request.GET.get("page")),
        "page_links": _page_links(request.GET),
    }
    return render(request, "storefront/farm.html", context)


def cart(request):
    """Show the cart priced now, by household; a price changed since last shown is flagged once."""
    current = session_cart(request)
    detail = cart_show(cart=current) if current is not None else None
    if detail is not None:
        for line in detail.lines:
            line.form = QuantityForm(
                product=line.product,
                initial={"quantity": plain_number(line.quantity)},
                auto_id=f"line{line.id}_%s",
            )
    context = {
        "detail": detail,
        "price_changed": detail is not None and any(line.price_changed for line in detail.lines),
    }
    return render(request, "storefront/cart.html", context)


def _own_line(request, pk: int):
    line = cart_line_in(cart=session_cart(request), pk=pk)
    if line is None:
        raise Http404
    return line


@require_POST
def cart_line_update(request, pk: int):
    """Change a line's quantity; a refusal ("Only 3 kg left") comes back as a message."""
    line = _own_line(request, pk)
    form = QuantityForm(request.POST, product=line.product)
    if form.is_valid():
        try:
            cart_line_set_quantity(line=line, quantity=form.cleaned_data["quantity"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
    if form.errors:
        problems = " ".join(str(message) for errors in form.errors.values() for message in errors)
        messages.error(request, f"{line.product.name}: {problems}")
    else:
        messages.success(request, _("%(product)s: quantity changed.") % {"product": line.product.name})
    return redirect("storefront:cart")


@require_POST
def cart_line_delete(request, pk: int):
    """Take a line out of the cart."""
    line = _own_line(request, pk)
    cart_line_remove(line=line)
    messages.success(request, _("%(product)s removed from your cart.") % {"product": line.product.name})
    return redirect("storefront:cart")
