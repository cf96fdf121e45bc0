"""Settings of the shared-login Django app. Every value comes from the same environment as the Node apps."""
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

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


SECRET_KEY = os.environ.get('SECRET_KEY') or 'dev-only-insecure-secret-key-change-me'
DEBUG = False
ALLOWED_HOSTS = ['*']
INSTALLED_APPS = [
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'sharedlogin',
]
MIDDLEWARE = [
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
]
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
