from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from logistics import views as logistics_views
from marketplace.accounts import views as accounts_views

from . import views
from .storefront import views as storefront

# An address under /api/ that matches nothing (`/api/v1/orders/abc/`) is answered in the API's shape.
handler404 = "marketplace.views.not_found"
handler500 = "marketplace.views.server_error"

admin.site.site_header = "Chợ Nổi"
admin.site.site_title = "Chợ Nổi"

urlpatterns = [
    path("", storefront.home, name="home"),  # the storefront home is the site home
    path("", include("marketplace.storefront.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", views.privacy, name="privacy"),
    path("official/", views.official_home, name="official-home"),
    path("", include("marketplace.reports.urls")),
    path("courier/", logistics_views.courier_home, name="courier-home"),
    path("", include("logistics.urls")),
    path("", include("farms.urls")),
    path("", include("orders.urls")),
    path("account/", include("marketplace.accounts.urls")),
    path("notifications/", include("marketplace.notifications.urls")),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    # The admin's own password form checks the old password without counting it toward the lockout:
    # its link leads to the account's page, which does (marketplace/accounts/reauth.py).
    path(
        "admin/password_change/",
        admin.site.admin_view(RedirectView.as_view(pattern_name="accounts:password_change")),
        name="admin-password-change",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("marketplace.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]


def serve_media(request, path):
    # The folder is read when asked, not when the URLs are loaded: the setting is the truth.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Outside production the app serves uploads itself; production leaves them to the proxy.
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}(?P<path>.*)$", serve_media))
