"""Settings of the shared-login Django app. Every value comes from the same environment as the Node apps."""
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _database(url):
    """DATABASE_URL as the Node apps read it: sqlite:path, postgres://... or mysql://..."""
    if url.startswith('sqlite:'):
        path = url[len('sqlite:'):]
        if path.startswith('//'):
            path = path[2:]
        return {'ENGINE': 'django.db.backends.sqlite3', 'NAME': path}
    parsed = urlparse(url)
    engines = {'postgres': 'postgresql', 'postgresql': 'postgresql', 'mysql': 'mysql'}
    if parsed.scheme not in engines:
        raise ValueError('DATABASE_URL must start with sqlite:, postgres:// or mysql://')
    return {
        'ENGINE': 'django.db.backends.' + engines[parsed.scheme],
        'NAME': unquote(parsed.path.lstrip('/')),
        'USER': unquote(parsed.username or ''),
        'PASSWORD': unquote(parsed.password or ''),
        'HOST': parsed.hostname or '',
        'PORT': str(parsed.port or ''),
    }


def _flag(name):
    """The Node side's reading of a boolean variable (src/config.ts)."""
    raw = (os.environ.get(name) or '').strip().lower()
    if raw in ('', '0', 'false', 'no', 'off'):
        return False
    if raw in ('1', 'true', 'yes', 'on'):
        return True
    raise ValueError('%s must be true or false (1/0, yes/no, on/off)' % name)


SECRET_KEY = os.environ.get('SECRET_KEY') or 'dev-only-insecure-secret-key-change-me'

# DJANGO_VERSION: the Django the Node apps were configured for (they write what it writes).
DJANGO_LINE = '%d.%d' % django.VERSION[:2]
if os.environ.get('DJANGO_VERSION', DJANGO_LINE) != DJANGO_LINE:
    raise ImproperlyConfigured('DJANGO_VERSION is %s but this is Django %s' % (os.environ['DJANGO_VERSION'], DJANGO_LINE))
# SECRET_KEY_FALLBACKS (comma-separated) exists from Django 4.1 on; older ones would silently ignore it.
_fallbacks = [k for k in os.environ.get('SECRET_KEY_FALLBACKS', '').split(',') if k]
if _fallbacks and django.VERSION < (4, 1):
    raise ImproperlyConfigured('SECRET_KEY_FALLBACKS needs Django 4.1+, this is Django %s' % DJANGO_LINE)
if django.VERSION >= (4, 1):
    SECRET_KEY_FALLBACKS = _fallbacks
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in (os.environ.get('ALLOWED_HOSTS') or '127.0.0.1,localhost,[::1]').split(',') if h.strip()]
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and overwrites what clients send).
if _flag('TRUST_PROXY'):
    SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
SESSION_COOKIE_SECURE = _flag('SESSION_COOKIE_SECURE')
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# SecurityMiddleware: X-Content-Type-Options: nosniff and Referrer-Policy: same-origin (its
# defaults, spelled out); XFrameOptionsMiddleware: X-Frame-Options: DENY. The Node apps send the
# same three headers (src/security.ts).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = 'same-origin'
X_FRAME_OPTIONS = 'DENY'
# The Node apps read at most 16 kB of body; Django refuses more with a 400 (RequestDataTooBig).
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
INSTALLED_APPS = [
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'sharedlogin',
]
MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    # Validates Host against ALLOWED_HOSTS on every request (400 otherwise).
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
]
# Django's defaults (cookie `csrftoken`, header X-CSRFToken, field csrfmiddlewaretoken): the Node
# apps use the same, so one token serves all four apps.
CSRF_FAILURE_VIEW = 'sharedlogin.views.csrf_failure'
ROOT_URLCONF = 'sharedlogin.urls'
WSGI_APPLICATION = 'sharedlogin.wsgi.application'
DATABASES = {'default': _database(os.environ.get('DATABASE_URL') or 'sqlite:' + str(BASE_DIR.parent / 'shared-login.sqlite3'))}
SESSION_ENGINE = 'django.contrib.sessions.backends.db'
SESSION_COOKIE_NAME = os.environ.get('SESSION_COOKIE_NAME') or 'sessionid'
USE_TZ = True
TIME_ZONE = 'UTC'
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'console': {'class': 'logging.StreamHandler'}},
    'root': {'handlers': ['console'], 'level': 'WARNING'},
}
