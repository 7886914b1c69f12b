from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
