"""Django settings for @sessionbridge/django's interop suite (driven by sbdjango.py)."""
import os

import django

SECRET_KEY = os.environ['SB_SECRET_KEY']
if django.VERSION < (4, 0):
    # 3.1/3.2 only (removed in 4.0): 'sha1' makes the transitional SHA-1 forms.
    DEFAULT_HASHING_ALGORITHM = os.environ.get('SB_HASHING_ALGORITHM', 'sha256')
if os.environ.get('SB_SECRET_KEY_FALLBACKS'):
    SECRET_KEY_FALLBACKS = os.environ['SB_SECRET_KEY_FALLBACKS'].split(',')  # 4.1+
if os.environ.get('SB_PBKDF2_ITERATIONS'):
    # A project that raises the work factor: a subclass as the first of PASSWORD_HASHERS.
    from django.conf import global_settings
    PASSWORD_HASHERS = ['sbhashers.CustomPBKDF2'] + [
        h for h in global_settings.PASSWORD_HASHERS if not h.endswith('.PBKDF2PasswordHasher')]
USE_TZ = True
INSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes', 'django.contrib.sessions']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
_db = os.environ['SB_DB']
if _db.startswith('postgres:'):
    DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': _db[9:], 'USER': 'postgres',
                             'HOST': '127.0.0.1', 'PORT': '5432'}}
else:
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': _db[7:]}}
