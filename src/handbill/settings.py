"""Handbill's one settings module.

Every value comes from the environment through the typed helpers below, which fail loudly on
a malformed value instead of guessing. Each variable is documented in ``.env.example``.
With nothing set, Handbill runs on a SQLite file under ``var/`` with debug on: the embedded
default for a solo therapist or a developer.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
# The checkout (or the working directory of an installed copy) holds var/ for local state.
PROJECT_DIR = Path(os.environ.get("HANDBILL_HOME", Path.cwd())).resolve()


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("HANDBILL_DEBUG", True)
_DEV_SECRET = "handbill-development-only-not-a-secret"  # noqa: S105 - refused below outside debug
SECRET_KEY = env_str("HANDBILL_SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("HANDBILL_SECRET_KEY must be set when HANDBILL_DEBUG is false")
ALLOWED_HOSTS = env_list("HANDBILL_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

VAR_DIR = Path(env_str("HANDBILL_VAR_DIR", str(PROJECT_DIR / "var")))
_default_db = f"sqlite:///{VAR_DIR / 'handbill.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_db)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj-database-url raises several kinds; name the variable.
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} is not usable: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must work on a fresh clone: make its folder on first use.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the web page read while a batch job writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"].update(
        {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Page queries must answer in milliseconds; PostgreSQL's JIT compiler spent 2.4 of the
    # dashboard aging query's 5.7 s compiling its plan at 100,000 claims (bench/web_pages.py).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "handbill.audit",
    "handbill.practice",
    "handbill.policies",
    "handbill.ledger",
    "handbill.coding",
    "handbill.patients",
    "handbill.visits",
    "handbill.claims",
    "handbill.submissions",
    "handbill.remittance",
    "handbill.web",
    "handbill.eligibility",
    "handbill.followup",
    "handbill.api",
    # django-ninja's own static files: the API docs page serves its bundled Swagger UI
    # instead of loading it from a CDN.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (CSS, htmx) straight from the app, DEBUG on or off (whitenoise).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "handbill.urls"
WSGI_APPLICATION = "handbill.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The browser app's own sign-in page (handbill.web); the admin keeps its own for staff.
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

if DEBUG:
    # Before any collectstatic there is no STATIC_ROOT; in DEBUG whitenoise serves straight
    # from the apps' static folders, so its warning about the missing folder is noise.
    warnings.filterwarnings("ignore", message=r"No directory at: .*static")
if not DEBUG:
    # `manage.py collectstatic` writes hashed, compressed copies into STATIC_ROOT; whitenoise
    # serves them with far-future cache headers.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        },
    }
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("HANDBILL_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("HANDBILL_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("HANDBILL_LOG_LEVEL", "WARNING")},
}

# The browser app (handbill.web).
MIDDLEWARE += [
    # request.htmx: an htmx request is answered with a partial template.
    "django_htmx.middleware.HtmxMiddleware",
    # request.practice, request.membership and request.can, from the session (the switcher).
    "handbill.web.middleware.CurrentPracticeMiddleware",
]

# Access, audit and sign-in (docs/security.md).
MIDDLEWARE += [
    # The source address and channel of every audit row written during a request, and an
    # audit row for each refusal (403).
    "handbill.audit.middleware.AuditMiddleware",
]
# Behind one reverse proxy that appends the client to X-Forwarded-For: audit rows take the
# address from there (the proxy's own address is all REMOTE_ADDR holds).
HANDBILL_BEHIND_PROXY = env_bool("HANDBILL_BEHIND_PROXY", False)

INSTALLED_APPS += [
    # Sign-in lockout after repeated failures.
    "axes",
    # TOTP two-factor sign-in.
    "django_otp",
    "django_otp.plugins.otp_totp",
]
MIDDLEWARE += [
    # request.user.is_verified(): signed in with a one-time code in this session.
    "django_otp.middleware.OTPMiddleware",
    # Owners and billers of a practice that requires two-factor enrol or type their code
    # before any page (never /api/, which authenticates by token).
    "handbill.web.two_factor.TwoFactorMiddleware",
    "handbill.web.sessions.SlidingSessionMiddleware",
    # Lockout responses; django-axes wants to be last.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username before the password is checked. It needs the request:
    # authenticate() must be called with request=… (the sign-in view does).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("HANDBILL_SIGN_IN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HANDBILL_LOCKOUT_MINUTES", 15))
# Each on its own: five failures for one account (from wherever: guesses spread over many
# addresses are stopped too), or five from one address (one attacker trying many accounts).
# The cost: someone can lock a user, or a clinic behind one address, out for 15 minutes.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/account/locked.html"
# The same client address as the audit trail (REMOTE_ADDR, or the proxy's when behind one).
AXES_CLIENT_IP_CALLABLE = "handbill.audit.middleware.source_address"
# Django's own validators plus one that refuses passwords of few distinct characters.
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "handbill.practice.passwords.VarietyValidator"},
]
OTP_TOTP_ISSUER = "Handbill"
# Signed out after 30 minutes without a request; a request starts the 30 minutes again
# (handbill.web.sessions.SlidingSessionMiddleware, at most one session write a minute).
SESSION_COOKIE_AGE = env_int("HANDBILL_IDLE_MINUTES", 30) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
