"""Settings for fanpin, read from the environment with embedded defaults.

With nothing set, the app runs on a SQLite file with Celery tasks executed eagerly,
so a laptop needs no infrastructure. Set DATABASE_URL and REDIS_URL for PostgreSQL and a
real Celery broker.
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name, default, minimum=None):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


DEBUG = envbool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "axes",
    "households",
    "monitoring",
    "assistance",
    "screening",
    # The project package itself: the commands that span every app (seed_demo).
    "fanpin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that queries the database: it watches every statement of the request.
    "fanpin.middleware.DatabaseDropMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "fanpin.middleware.RequestGuardMiddleware",
    # A GET reads the county settings once for all its panels and lists (monitoring.county_settings).
    "monitoring.county_settings.SettingsReadOnce",
    "fanpin.middleware.PrivateResponseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Last, as django-axes asks: turns a flagged login attempt into the lock-out answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fanpin.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "households.context_processors.roles",
            ],
        },
    },
]

# Widgets render through the project's templates, so templates/django/forms/widgets/ can word
# every dropdown's empty choice (请选择) in one place.
FORM_RENDERER = "households.widgets.FastSelectRenderer"
# An unchosen filter means "any".
FILTERS_EMPTY_CHOICE_LABEL = "全部"

WSGI_APPLICATION = "fanpin.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # PostgreSQL's JIT compiles registry-wide scans for seconds (6 s of JIT for a 1 s
        # data-quality query at 100,000 households, bench/README.md); a ?options= in the URL wins.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Wait for a competing writer instead of failing at once. IMMEDIATE takes the
            # write lock when a transaction starts: two requests that both read a case and
            # then write it (two people approving at once) would otherwise deadlock, and
            # SQLite fails one with "database is locked" at once, ignoring the timeout.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "fanpin.auth.LoginGuardBackend",  # django-axes: refuses logins while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force protection (fanpin/auth.py): after LOGIN_FAILURE_LIMIT failures for one account
# or from one address, that account and that address wait LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_LOCKOUT_CALLABLE = "fanpin.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on stdout; lock-outs are still logged
# The client address: REMOTE_ADDR, unless the README's proxy setting says how many trusted
# proxies put the client's address in X-Forwarded-For (a forged header must not pick it).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
try:
    # Checked here so a typo stops start-up naming the variable (Django would raise a bare ValueError).
    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA time zone such as Asia/Shanghai, got {TIME_ZONE!r}"
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
# Uploaded spreadsheets can hold tens of thousands of rows.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# No inline script anywhere (templates load static/js files; the API docs use the split
# Swagger view). Inline style attributes remain allowed: they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The visit page may ask for the phone's location; nothing else needs a device feature.
PERMISSIONS_POLICY = {
    "geolocation": ["self"],
    "camera": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "fanpin.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "fanpin.schema.AutoSchema",
    "EXCEPTION_HANDLER": "fanpin.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "fanpin API",
    "DESCRIPTION": "防止返贫动态监测和帮扶系统 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets used by several fields get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RiskTypeEnum": "monitoring.models.RiskType",
        "ObjectionStatusEnum": "monitoring.models.Objection.Status",
        "MemberStatusEnum": "households.models.Member.Status",
        "ScreeningUploadStatusEnum": "screening.models.ScreeningUpload.Status",
        "MeasureStatusEnum": "assistance.models.Measure.Status",
        "MeasureKindEnum": "assistance.models.MeasureType.Kind",
        "DepartmentKindEnum": "households.models.Department.Kind",
        "WarningStateEnum": "screening.models.WarningState",
        "CaseStateEnum": "monitoring.models.State",
        "DeclarationStateEnum": "monitoring.models.Declaration.State",
        "DeclarationSourceEnum": "monitoring.models.Declaration.Source",
        "DeclarationCadreSourceEnum": "monitoring.declarations.forms.CADRE_SOURCES",
        "WarningRiskEnum": "screening.models.WarningRisk",
        "WarningTierEnum": "screening.models.Tier",
    },
}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, got {REDIS_URL!r}")
# The cache: Redis when REDIS_URL is set, so every web process counts the public declaration
# page's rate limits together (monitoring/declarations/limits.py); local memory otherwise.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# Public declarations (issue 12): accepted ones per client address an hour and per ID number a
# day; status look-ups per client address an hour.
DECLARATION_LIMIT_PER_IP = envint("DECLARATION_LIMIT_PER_IP", 10, minimum=1)
DECLARATION_LIMIT_PER_ID_NUMBER = envint("DECLARATION_LIMIT_PER_ID_NUMBER", 3, minimum=1)
DECLARATION_STATUS_LIMIT_PER_IP = envint("DECLARATION_STATUS_LIMIT_PER_IP", 30, minimum=1)
CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport with a repair for a worker losing Redis mid-read (fanpin/celery_transport.py).
if REDIS_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "fanpin.celery_transport:Transport"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# The queue tasks are sent to and workers consume by default (several deployments, or the test
# workers, can share one Redis with a queue each).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
# A publish rides out a Redis restart of a few seconds (about 4 s of retries) before it gives up;
# an upload whose task could not be sent stays queued and saved (households.broker).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 6, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into django-celery-beat's tables when beat starts; editable in the admin.
CELERY_BEAT_SCHEDULE = {
    "sweep-import-jobs": {"task": "households.sweep_import_jobs", "schedule": 600.0},
    "sweep-screening-uploads": {"task": "screening.sweep_uploads", "schedule": 600.0},
    "refresh-dashboards": {"task": "fanpin.refresh_dashboards", "schedule": 300.0},
}
# The dashboard shows its stored figures (fanpin.models.DashboardSummary, refreshed every five
# minutes by the task above) while they are at most this many seconds old and of today;
# older ones are counted again when the page is opened.
FANPIN_DASHBOARD_MAX_AGE = envint("FANPIN_DASHBOARD_MAX_AGE", 900, minimum=0)
# Rows of a department file per chunk: a large file is spread over the workers in chunks of
# about this many rows (screening.services).
SCREENING_CHUNK_ROWS = envint("SCREENING_CHUNK_ROWS", 10_000, minimum=1)
# A chunk of a text file is a byte range that its worker reads from the stored file, so every
# worker needs MEDIA_ROOT (shared storage across machines). True: the prepare task copies each
# range's bytes into the database instead (workers without shared storage; slower, serial).
SCREENING_CHUNKS_IN_DATABASE = envbool("SCREENING_CHUNKS_IN_DATABASE", False)
# Called as f(upload_id=…) after an upload becomes its department's current data for the month
# (dotted paths; the warning rules plug in here).
SCREENING_UPLOAD_DONE: list[str] = ["screening.tasks.enqueue_upload_rules"]

# Sections the layers above monitoring add to its pages (monitoring/extensions.py): monitoring
# imports nothing from them.
FANPIN_CASE_PAGE_SECTIONS = [
    "monitoring.rejection_pages.case_section",
    "screening.asset_views.case_section",
    "assistance.views.case_section",
]
FANPIN_INBOX_SECTIONS = [
    "monitoring.declarations.pages.inbox_section",
    "monitoring.rejection_pages.inbox_section",
    "screening.asset_views.inbox_section",
    "assistance.views.inbox_section",
]
# The panels the layers above add to 我的待办: name -> f(user) -> monitoring.selectors.Panel (the
# condition on MonitoringCase, order, how many shown) or None (not shown to that user). All are
# counted in one grouped COUNT (monitoring.selectors.inbox_counts) and their rows read with the
# to-do list's own in two queries (monitoring.selectors.inbox_rows).
FANPIN_INBOX_PANELS = {
    "rejections": "monitoring.rejection_pages.inbox_panel",
    "assets": "screening.asset_views.inbox_panel",
    "plans": "assistance.views.inbox_panel",
}
# Called as f(household_ids=[…]) after the registry moved households to another village (the
# cases keep their household's village: monitoring.services.households_moved).
FANPIN_HOUSEHOLDS_MOVED = ["monitoring.services.households_moved"]
# Conditions on cases that the case filters offer but the layers above own (monitoring/extensions.py).
FANPIN_CASE_CONDITIONS = {"plan_overdue": "assistance.selectors.overdue_plans_q"}
# What must hold before the county determination (county_approve) besides the workflow's own
# conditions: f(case) -> [reason, …] by dotted path (monitoring.conditions.determination_problems).
# Screening's asset cross-check: the comparison's result is recorded first (issue 10 point 9).
FANPIN_DETERMINATION_CHECKS = ["screening.asset_selectors.determination_problems"]

# Domain defaults; per-county values override them where the model allows (DOMAIN.md §3).
# The monitoring scale a county usually keeps (监测规模: households under monitoring ÷ registered
# households; seed 001: near 5 %, at most 10 %), shown against the dashboard's figure.
FANPIN_SCALE_USUAL_PERCENT = envint("SCALE_USUAL_PERCENT", 5, minimum=1)
FANPIN_SCALE_MAX_PERCENT = envint("SCALE_MAX_PERCENT", 10, minimum=1)
# A ledger export of more cases than this runs as a background task with progress.
FANPIN_LEDGER_SYNC_ROWS = envint("LEDGER_SYNC_ROWS", 2000, minimum=0)
FANPIN_DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "fanpin-demo")
# Demo mode (scripts/run.sh sets DEMO_MODE=1): the login page lists the demo logins. Only with
# DEBUG on, so a production deployment never tells who may log in.
FANPIN_DEMO_MODE = envbool("DEMO_MODE", False)
if FANPIN_DEMO_MODE and not DEBUG:
    raise ImproperlyConfigured(
        "DEMO_MODE=1 lists the demo logins on the login page: it needs DEBUG=1, never production."
    )

# The risk-elimination checklist (DOMAIN.md §5): criterion functions (case, day) -> Criterion,
# by dotted path, in the order they are shown. The workflow reads them through
# monitoring.checklist; the layers above it add their own here instead of being imported.
FANPIN_ELIMINATION_CRITERIA = [
    "monitoring.criteria.months_since_determination",
    "assistance.criteria.measure_carried_out",
    "monitoring.criteria.income_stable",
    "monitoring.criteria.rigid_spending_resolved",
    "monitoring.criteria.two_assurances",
]

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# HTTPS behind a reverse proxy (README "Production"): BEHIND_HTTPS_PROXY=1 trusts the proxy's
# X-Forwarded-Proto and turns on, unless each is set otherwise, the redirect to HTTPS, secure
# cookies and a year of HSTS.
BEHIND_HTTPS_PROXY = envbool("BEHIND_HTTPS_PROXY", False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", BEHIND_HTTPS_PROXY)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if BEHIND_HTTPS_PROXY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", BEHIND_HTTPS_PROXY)
# Both cover only this host's own subdomains; "preload" in the header submits nothing by itself.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", BEHIND_HTTPS_PROXY)
# The load balancer's health check comes over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", BEHIND_HTTPS_PROXY)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Upload limits per file (households/uploads.py checks every upload by content too).
UPLOAD_MAX_IMAGE_MB = envint("UPLOAD_MAX_IMAGE_MB", 10, minimum=1)
UPLOAD_MAX_DOCUMENT_MB = envint("UPLOAD_MAX_DOCUMENT_MB", 20, minimum=1)
