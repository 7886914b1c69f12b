"""A request's cart for pages: the account's cart, or an anonymous one kept with the session.

An anonymous cart is keyed by the session key, and the session also holds its id
(`CART_SESSION_KEY`): Django's `login()` cycles the session key, the id survives, and the
`user_logged_in` receiver below uses it to merge the visitor's cart into the account's.
"""

from django.contrib import messages

from .models import Cart
from .selectors import cart_anonymous, cart_for
from .services import cart_get_or_create, cart_merge

CART_SESSION_KEY = "cart_id"


def session_cart(request, *, create: bool = False) -> Cart | None:
    """Return the request's cart; with `create`, make it on first use (the session gets a key)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return cart_get_or_create(user=user) if create else cart_for(user=user)
    session = request.session
    cart = None
    if CART_SESSION_KEY in session:
        cart = cart_anonymous(pk=session[CART_SESSION_KEY])
    if cart is None and session.session_key:
        cart = cart_for(session_key=session.session_key)
    if cart is None and create:
        if not session.session_key:
            session.save()  # a first visit: the session needs its key now
        cart = cart_get_or_create(session_key=session.session_key)
    if cart is not None and session.get(CART_SESSION_KEY) != cart.pk:
        session[CART_SESSION_KEY] = cart.pk
    return cart


def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    """Merge the visitor's anonymous cart into the account's cart; say which lines were cut."""
    session = getattr(request, "session", None)
    if session is None or CART_SESSION_KEY not in session:
        return
    source = cart_anonymous(pk=session.pop(CART_SESSION_KEY))
    if source is None:
        return
    caps = cart_merge(source=source, target=cart_get_or_create(user=user))
    for cap in caps:
        messages.warning(request, cap.message, fail_silently=True)
