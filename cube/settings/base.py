"""Constant settings plus the values env.py read. Components per integration follow at the bottom."""

from __future__ import annotations

import dj_database_url

from . import env

BASE_DIR = env.BASE_DIR
VAR_DIR = env.VAR_DIR

SECRET_KEY = env.get("DJANGO_SECRET_KEY") or env.get("SECRET_KEY")
DEBUG = env.get_bool("DJANGO_DEBUG", False)
if not SECRET_KEY:
    # Embedded mode: a per-installation key kept under var/, so restarts keep sessions and tokens valid.
    from .secret import embedded_secret_key

    SECRET_KEY = embedded_secret_key(VAR_DIR)
ALLOWED_HOSTS = env.get_list("DJANGO_ALLOWED_HOSTS", "*")
USE_X_FORWARDED_HOST = env.get_bool("DJANGO_USE_X_FORWARDED_HOST", False)
if env.get_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "cube.api",
    "cube.core",
    "cube.users",
    "uploads",
    "plugins",
    "feeds",
    "pacs",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cube.urls"
WSGI_APPLICATION = "cube.wsgi.application"
APPEND_SLASH = True

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
            ]
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env.get("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Embedded mode runs the web server, a worker and beat against one file: wait for locks instead of
    # failing, and use WAL so readers never block the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Persistent connections: reconnecting and re-running the PRAGMAs cost about 5 ms per request.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A file, not the shared in-memory database: worker threads in the tests lock its tables otherwise.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.get("TZ", "UTC") or "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = env.get("CUBE_STATIC_ROOT", str(VAR_DIR / "static"))

# --- ChRIS ---------------------------------------------------------------------------------------------
CUBE_SUPERUSER = "chris"
CUBE_ADMIN_PASSWORD = env.get("CUBE_ADMIN_PASSWORD", "chris1234")
CUBE_INSTANCE_NAME = env.get("CUBE_INSTANCE_NAME", "ChRIS instance")
DISABLE_USER_ACCOUNT_CREATION = env.get_bool("DISABLE_USER_ACCOUNT_CREATION", False)
# How long a successful Basic-auth password check is remembered (seconds); 0 turns the cache off.
CUBE_BASIC_AUTH_CACHE_SECONDS = env.get_int("CUBE_BASIC_AUTH_CACHE_SECONDS", 300)

from .components.celery import *  # noqa: E402,F401,F403
from .components.drf import *  # noqa: E402,F401,F403
from .components.storage import *  # noqa: E402,F401,F403
from .components.runners import *  # noqa: E402,F401,F403
from .components.cors import *  # noqa: E402,F401,F403
from .components.pacs import *  # noqa: E402,F401,F403
