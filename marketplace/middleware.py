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
