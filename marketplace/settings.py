"""Settings for Chợ Nổi, read once from the environment with safe local defaults.

Every setting a deployment may change is listed in the README's settings table.
`DJANGO_ENV=production` switches on the production profile (HTTPS, secure cookies,
HSTS, media left to the proxy); anything else is a local profile that runs with
nothing but Python: SQLite and a Celery broker on the filesystem.
"""
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env("DJANGO_ENV", default="development")
IS_PRODUCTION = DJANGO_ENV == "production"

# A fixed development key keeps sessions valid across restarts of `make run`;
# production refuses to start without a real one.
_DEV_SECRET_KEY = "dev-only-insecure-key-for-cho-noi-never-use-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", default="" if IS_PRODUCTION else _DEV_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")

DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Where the local profile keeps its database, broker queue, media and logs.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",  # its system checks refuse django-csp 3.x settings
    "marketplace",
    "marketplace.accounts",
    "marketplace.geo",
    "marketplace.notifications",
    "marketplace.outbox",
    "farms",
    "logistics",
    "orders",
    "marketplace.storefront",
    "marketplace.reports",
]

MIDDLEWARE = [
    # Outermost: every answer carries the policy, the HTTPS redirect and any middleware's refusal too.
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # ETag from the body and 304 for a matching If-None-Match: the catalogue API on slow 3G.
    "django.middleware.http.ConditionalGetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside ConditionalGet (no ETag on what must not be stored), after static files: answers to a
    # signed-in user, or to a request with credentials, are `private, no-store`.
    "marketplace.middleware.PrivateAnswersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "marketplace.middleware.VietnameseFirstLocaleMiddleware",
    # After the language is chosen (its message is translated), before anything reads the query.
    "marketplace.middleware.NullCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: the CSRF check is the first thing that reads an upload's body.
    "marketplace.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "marketplace" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name uses PostgreSQL through psycopg 3.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before a request reuses it: one lost while idle (a restart, a
# failover) is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# WAL lets readers run beside a writer; IMMEDIATE takes the write lock at BEGIN
# so two writers queue on the busy timeout instead of failing mid-transaction.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # Tests run on a file, never in memory, so concurrency tests see real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("TEST", {})
    if env("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"]["NAME"] = env("TEST_DATABASE_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://cho-noi")}

# --- Accounts and login -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

# Ten wrong passwords for one phone number lock that account for 15 minutes,
# keyed by the normalised phone (many users share one address behind a carrier NAT).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "marketplace.accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "marketplace.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "password", "phone"]
# Failures and locks live in the database, never in the cache: a Redis outage neither errors nor unlocks.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# axes.W006 asks to lock by address too; that would lock every account behind one
# carrier NAT after ten typos. Per-address limits are rate limits, not lockouts.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

PASSWORD_RESET_CODE_MINUTES = env.int("PASSWORD_RESET_CODE_MINUTES", default=15)
PASSWORD_RESET_CODE_ATTEMPTS = 5
PASSWORD_RESET_SMS_PER_HOUR = env.int("PASSWORD_RESET_SMS_PER_HOUR", default=5)
# Minutes a sign-up or new-phone code stays valid (tries are PASSWORD_RESET_CODE_ATTEMPTS).
PHONE_CODE_MINUTES = env.int("PHONE_CODE_MINUTES", default=15)
PASSWORD_RESET_TIMEOUT = 60 * 60  # seconds an emailed reset link stays valid
PRIVACY_NOTICE_VERSION = "2026-01"

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["marketplace.formats"]
LANGUAGE_COOKIE_NAME = "cho_noi_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60

# --- Static files and media ---------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start when it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Outside production the app serves /media/ itself, even with DEBUG=0.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not IS_PRODUCTION)
# Certificates and other documents that name people: never under MEDIA_URL, served
# only through views that check who asks.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "marketplace.storage.PrivateStorage", "OPTIONS": {}},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Local profiles serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Photos and certificates: JPEG, PNG or WebP (and PDF for certificates), judged by content.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
UPLOAD_MAX_DECODED_BYTES = env.int("UPLOAD_MAX_DECODED_BYTES", default=96 * 1024 * 1024)  # farms/decode.py
PRODUCT_IMAGES_MAX = 8
# Longest side in pixels of each stored photo size (the cleaned original is capped too).
IMAGE_SIZES = {"thumb": 320, "display": 1080}
IMAGE_ORIGINAL_MAX_SIDE = 2560

# --- Farms ------------------------------------------------------------------------
# Key of the hash that finds two households with one citizen ID (CCCD). Changing it
# hides earlier duplicates, so production sets its own and keeps it.
CCCD_HASH_KEY = env("CCCD_HASH_KEY", default="" if IS_PRODUCTION else "dev-only-cccd-hash-key")
if not CCCD_HASH_KEY:
    raise ImproperlyConfigured("CCCD_HASH_KEY must be set when DJANGO_ENV=production.")
CERTIFICATE_EXPIRY_NOTICE_DAYS = env.int("CERTIFICATE_EXPIRY_NOTICE_DAYS", default=30)

# --- Orders and delivery ---------------------------------------------------------
# The fee to a ward without its own row in the admin (Delivery › Delivery fees), in đồng:
# the base fee covers the first kilograms, every started kilogram beyond costs the surcharge.
DELIVERY_FEE_DEFAULT = {
    "base_fee": env.int("DELIVERY_FEE_BASE", default=20_000),
    "included_kg": env.int("DELIVERY_FEE_INCLUDED_KG", default=5),
    "per_kg_fee": env.int("DELIVERY_FEE_PER_KG", default=2_000),
    # Goods worth at least this much travel free; 0: never free.
    "free_over": env.int("DELIVERY_FREE_OVER", default=0) or None,
}
# A household answers (accepts or rejects) a new part of an order within this many hours, or it
# is cancelled (the buyer told, refunded if paid); it is reminded this many hours before.
FARM_ORDER_ANSWER_HOURS = env.int("FARM_ORDER_ANSWER_HOURS", default=12)
FARM_ORDER_REMINDER_HOURS = env.int("FARM_ORDER_REMINDER_HOURS", default=3)
# Officials' fulfilment statistics: a part delivered more than this many hours after the household
# was shown it counts as late (when the buyer asked for a delivery date, after the end of that day).
DELIVERY_LATE_HOURS = env.int("DELIVERY_LATE_HOURS", default=48)
# Who carries households' parts to buyers (logistics.carriers): the marketplace's own couriers.
CARRIER = env("CARRIER", default="logistics.carriers.OwnCouriers")
# Collection runs (logistics): built every day at this local hour from the shipments booked
# before it (`build_collection_runs`), for that day.
COLLECTION_CUTOFF_HOUR = env.int("COLLECTION_CUTOFF_HOUR", default=6)
# Problems after delivery: a buyer may report one within this many hours; an order is completed
# once this window has passed with no report waiting.
PROBLEM_REPORT_HOURS = env.int("PROBLEM_REPORT_HOURS", default=48)
# Officials' dashboard: warn of a glut when a product's average farm-gate price per kg falls by
# more than this many percent from one week to the next (the last 7 days against the 7 before).
PRICE_DROP_WARNING_PERCENT = env.int("PRICE_DROP_WARNING_PERCENT", default=20)
# Settlement: the platform's commission on a household's delivered sales, and the tax withheld on
# processed goods (a household's own unprocessed produce is exempt), in percent; both rounded
# half-up to the đồng per household order.


def _percent(name: str, default: str) -> Decimal:
    """A rate in percent from the environment, checked once at start (not at the first settlement)."""
    raw = env.str(name, default=default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a percentage such as 5 or 1.5, not {raw!r}") from None
    if not (value.is_finite() and 0 <= value < 100):
        raise ImproperlyConfigured(f"{name} must be from 0 to below 100, not {raw!r}")
    return value


COMMISSION_PERCENT = _percent("COMMISSION_PERCENT", "5")
TAX_WITHHELD_PERCENT = _percent("TAX_WITHHELD_PERCENT", "1.5")
# Officials' exports of up to this many days are answered at once; longer ones by a task.
EXPORT_SYNC_DAYS = env.int("EXPORT_SYNC_DAYS", default=92)
# How far ahead a buyer may ask for delivery.
DELIVERY_DATE_MAX_DAYS = env.int("DELIVERY_DATE_MAX_DAYS", default=14)
# Payment providers by method (DESIGN.md house rule 7); issue #6 adds card and bank transfer.
PAYMENT_PROVIDERS = {
    "cod": "orders.payments.cod.CashOnDelivery",
    "stripe": "orders.payments.stripe.StripeCheckout",
    "vietqr": "orders.payments.vietqr.VietQRTransfer",
}
# VietQR bank transfer: the marketplace's account (a bank's 6-digit BIN, the account number,
# the name shown in banking apps). Development uses a demo account; production sets its own.
VIETQR_BANK_BIN = env("VIETQR_BANK_BIN", default="" if IS_PRODUCTION else "970436")
VIETQR_ACCOUNT_NUMBER = env("VIETQR_ACCOUNT_NUMBER", default="" if IS_PRODUCTION else "0011001234567")
VIETQR_ACCOUNT_NAME = env("VIETQR_ACCOUNT_NAME", default="" if IS_PRODUCTION else "CHO NOI CAN THO")
# The shared secret of the bank's transfer notifications (POST /webhooks/vietqr/); empty: staff confirm.
VIETQR_WEBHOOK_SECRET = env("VIETQR_WEBHOOK_SECRET", default="")
# An unpaid card or transfer order holds its stock this long, then is cancelled (Stripe keeps
# a Checkout Session open at least 30 minutes).
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=30)
# Until one of their orders has been delivered, a buyer's open cash-on-delivery orders may
# add up to this much; a buyer who refused this many deliveries loses cash on delivery until
# staff restore it.
COD_FIRST_ORDERS_CAP = env.int("COD_FIRST_ORDERS_CAP", default=2_000_000)
COD_REFUSALS_LIMIT = env.int("COD_REFUSALS_LIMIT", default=2)

# --- Email and SMS --------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Chợ Nổi <no-reply@cho-noi.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = env("SMS_BACKEND", default="marketplace.notifications.sms.ConsoleSMSBackend")
SMS_FILE_PATH = Path(env("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl")))
SMS_SENDER = env("SMS_SENDER", default="CHONOI")
SMS_API_URL = env("SMS_API_URL", default="")
SMS_API_KEY = env("SMS_API_KEY", default="")

# --- Payments (used from issue #6 on) ------------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=10)
# Stripe's largest charge in VND (8 digits); a larger order is refused before anything is made.
STRIPE_MAX_AMOUNT = env.int("STRIPE_MAX_AMOUNT", default=99_999_999)

# --- Celery -------------------------------------------------------------------
# The default broker is a folder on disk: it needs no server, so `make run` works anywhere.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
BROKER_FOLDER = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control"):
        (BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    # A message taken but not acknowledged (its worker died) goes back to the queue after this
    # many seconds; fulfilment steps acknowledge late, so they run again (and are idempotent).
    # How often a worker looks for such messages to put back (Redis), in seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": env.int("CELERY_RESTORE_SWEEP_SECONDS", default=60),
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The transactional outbox (marketplace/outbox): each worker relays pending rows this often (0:
# no relay in this worker); published rows are kept this many days for inspection.
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=1.0)
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=7)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call is answered 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, with limits: too deep (RecursionError) a 400, too large a 413, never a 500.
        "marketplace.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "marketplace.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chợ Nổi API",
    "DESCRIPTION": "Online farmers' market for Cần Thơ. Conventions: docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # `<id:pk>` (marketplace/converters.py): ids of up to 18 digits.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}},
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "marketplace.accounts.models.Role",
        # Several farms models have a `status`: name each choice set after its model.
        "FarmStatusEnum": "farms.models.FarmStatus",
        "ProductStatusEnum": "farms.models.ProductStatus",
        "ImageStatusEnum": "farms.models.ImageStatus",
        "CertificationStatusEnum": "farms.models.CertificationStatus",
        "CartLineProblemEnum": "orders.selectors.LineProblem.choices",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "FarmOrderStatusEnum": "orders.models.FarmOrderStatus",
        "PaymentStatusEnum": "orders.models.PaymentStatus",
        "PaymentRecordStatusEnum": "orders.models.PaymentRecordStatus",
        "CertificationKindEnum": "farms.models.CertificationKind",
        "ProblemKindEnum": "orders.models.ProblemKind",
        "ProblemStatusEnum": "orders.models.ProblemStatus",
        "LedgerKindEnum": "orders.models.LedgerKind",
    },
}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every answer, in every profile (so a page that needs an inline script
# or style breaks in development, not in production): our own scripts and styles only, never inline
# (the dashboard's data travels in a json_script block, Swagger UI's start-up script is a file).
# Pictures may be data: URLs (VietQR codes, Swagger UI's icons). A card payment posts to our own
# checkout, which redirects to Stripe's hosted page: browsers check a form's redirects against
# form-action too, so Stripe's checkout origin is allowed there (and a local stand-in's, which
# serves its pay page from the API base it replaces).
# (Not named CSP_*: django-csp 4 reads such names as its old, 3.x settings and refuses them.)
_form_action = ["'self'", "https://checkout.stripe.com"]
if STRIPE_API_BASE.rstrip("/") != "https://api.stripe.com":
    _form_action.append(STRIPE_API_BASE.rstrip("/"))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": _form_action,
    },
}
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Messages must reach people (a console or file backend puts reset codes in the log) and
    # limits must count across processes: refuse to start otherwise (marketplace/checks.py,
    # which `check --deploy` also runs).
    from marketplace.checks import production_refusals

    _refusals = production_refusals(
        sms_backend=SMS_BACKEND,
        email_backend=EMAIL_BACKEND,
        caches=CACHES,
        axes_handler=AXES_HANDLER,
        axes_cache=globals().get("AXES_CACHE", "default"),
    )
    if _refusals:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production refuses to start: " + " ".join(str(refusal) for refusal in _refusals)
        )

# --- Rate limits ------------------------------------------------------------------
# Attempts per scope (marketplace/throttling.py), pages and API counted together, per signed-in
# user or else per client address; only writes count. Each is RATE_LIMIT_<SCOPE> in the
# environment: "<number>/<s|min|hour|day>", or "off". Counters live in the default cache; with
# the cache down, limits let everything through (a warning is logged) rather than fail requests.
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def _rate(scope: str, default: str) -> str | None:
    """A rate limit from RATE_LIMIT_<SCOPE>, checked once at start."""
    name = f"RATE_LIMIT_{scope.upper()}"
    raw = env.str(name, default=default).strip().lower()
    if raw in {"off", "none", ""}:
        return None
    if not _RATE.match(raw):
        raise ImproperlyConfigured(f"{name} must look like 10/min, 20/hour or off, not {raw!r}")
    return raw


RATE_LIMITS = {
    "login": _rate("login", "30/min"),  # login page and API token
    "register": _rate("register", "20/hour"),
    "password_reset": _rate("password_reset", "10/hour"),  # asking for a link or SMS code
    "password_reset_confirm": _rate("password_reset_confirm", "20/hour"),  # entering the SMS code
    "checkout": _rate("checkout", "30/hour"),  # placing an order, page and API
    "webhook_invalid": _rate("webhook_invalid", "20/hour"),  # webhook calls failing verification
    "signup_confirm": _rate("signup_confirm", "20/hour"),  # entering a sign-up or new-phone code
    # Changing the password, email or phone, or deleting the account (per signed-in user).
    "account_security": _rate("account_security", "10/hour"),
    # Codes and security notices texted or mailed to one number, whoever asks (per number).
    "phone_messages": _rate("phone_messages", "5/hour"),
}
# Proxies in front of the site that append to X-Forwarded-For; 0: the address is REMOTE_ADDR and the
# header is ignored (anyone can forge it).
RATE_LIMIT_TRUSTED_PROXIES = env.int("RATE_LIMIT_TRUSTED_PROXIES", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = RATE_LIMIT_TRUSTED_PROXIES
# A Redis cache answers "nothing stored" at once when Redis is down instead of raising (the errors
# are logged by django_redis.cache); short timeouts keep an unreachable server from costing
# seconds. A CACHE_URL query (?socket_timeout=1) overrides them.
REDIS_CACHE_OPTIONS = {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}
for _cache in CACHES.values():
    if _cache["BACKEND"] == "django_redis.cache.RedisCache":
        _cache["OPTIONS"] = {**REDIS_CACHE_OPTIONS, **_cache.get("OPTIONS", {})}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
