"""Settings for the Financial Stronghold lab application.

Everything environment specific comes from the environment (see the lab's .env).
"""

import os
from pathlib import Path

from . import release

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None, required=False):
    value = os.environ.get(name, default)
    if required and not value:
        raise RuntimeError(f"environment variable {name} is required")
    return value


def env_bool(name, default=False):
    return str(os.environ.get(name, default)).strip().lower() in {"1", "true", "yes", "on"}


APP_VERSION = os.environ.get("APP_VERSION_OVERRIDE") or release.APP_VERSION

SECRET_KEY = env("DJANGO_SECRET_KEY", required=True)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "financial_stronghold.urls"
WSGI_APPLICATION = "financial_stronghold.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": env("DB_HOST", "127.0.0.1"),
        "PORT": env("DB_PORT", "5432"),
        "NAME": env("DB_NAME", "financial_stronghold"),
        "USER": env("DB_USER", "stronghold"),
        "PASSWORD": env("DB_PASSWORD", ""),
        "CONN_MAX_AGE": int(env("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5, "application_name": "financial_stronghold"},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": release.CACHE_DIR,
        "TIMEOUT": 300,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Served behind TLS in production; the lab serves plain HTTP on loopback.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOG_DIR = Path(env("DJANGO_LOG_DIR", str(BASE_DIR / "logs")))
LOG_LEVEL = env("DJANGO_LOG_LEVEL", "INFO")
try:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
except OSError:
    pass  # the file handlers below report a clear error if the directory is unusable

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "verbose": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "verbose"},
        "django_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(LOG_DIR / "django.log"),
            "formatter": "verbose",
            "level": "INFO",
        },
        "errors_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(LOG_DIR / "django_errors.log"),
            "formatter": "verbose",
            "level": "ERROR",
        },
        "security_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(LOG_DIR / "security.log"),
            "formatter": "verbose",
            "level": "INFO",
        },
    },
    "loggers": {
        "django": {"handlers": ["console", "django_file", "errors_file"], "level": LOG_LEVEL, "propagate": False},
        "django.security": {
            "handlers": ["console", "security_file", "errors_file"],
            "level": "INFO",
            "propagate": False,
        },
        "security": {"handlers": ["console", "security_file", "django_file"], "level": "INFO", "propagate": False},
        "core": {"handlers": ["console", "django_file", "errors_file"], "level": LOG_LEVEL, "propagate": False},
    },
}
