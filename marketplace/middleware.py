from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext


class VietnameseFirstLocaleMiddleware(LocaleMiddleware):
    """Pick the language: the visitor's choice (cookie), else Vietnamese.

    Pages ignore the browser's Accept-Language: most phones in Cần Thơ are set to
    English while their owners read Vietnamese, so the switcher decides. API clients
    may still ask for English with Accept-Language.
    """

    def process_request(self, request):
        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported:
            language = settings.LANGUAGE_CODE
            if request.path.startswith("/api/"):
                language = translation.get_language_from_request(request) or language
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NullCharacterMiddleware:
    """Refuse a NUL character in the address or the query string before any view reads it.

    PostgreSQL cannot store or compare text holding NUL (the query fails, a 500), and no address
    or query of the site has a use for one. A query string with one is invalid input: 400, with
    the parameter named for the API (`{"q": ["…"]}`); a path with one names nothing: 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404
        names = [name for name, values in request.GET.lists() if "\x00" in name + "".join(values)]
        if names:
            message = gettext("Null characters are not allowed.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({name.replace("\x00", ""): [message] for name in names}, status=400)
            raise BadRequest(message)
        return self.get_response(request)


PRIVATE = "private, no-store"


def _signed_in(request) -> bool:
    # DRF sets the Django request's `user` when a token authenticates, so API tokens count too.
    user = getattr(request, "user", None)
    if user is None:  # refused before AuthenticationMiddleware ran: the session says who it is
        return "_auth_user_id" in getattr(request, "session", {})
    return user.is_authenticated


class PrivateAnswersMiddleware:
    """Mark every answer to a signed-in user, to a request with credentials, or to a write
    (POST, PUT, PATCH, DELETE: the token, a sign-up), `private, no-store`.

    Such an answer may hold personal data (the account, orders, an export) or differ by who asks
    (a farmer sees their own drafts); neither a shared cache nor the browser's disk may keep it.
    It goes for pages and API alike, errors included, whether the user came by session or by
    `Authorization: Token`: the header depends on who asks, never on the address. Anonymous
    answers keep their caching (the catalogue's ETag and 304s on slow 3G). A view that marks its
    answer `public` (the same for everyone: a lot's QR code) keeps that.

    Sits inside ConditionalGetMiddleware, so that middleware sees `no-store` and adds no ETag.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A write's answer is never a cacheable copy, and may carry a secret to someone not yet
        # signed in: an API token, a newly created account (RFC 6749 asks `no-store` of tokens).
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        if writes or _signed_in(request) or "Authorization" in request.headers:
            directives = {part.strip().lower() for part in response.get("Cache-Control", "").split(",")}
            if "public" not in directives:
                response["Cache-Control"] = PRIVATE
        return response
