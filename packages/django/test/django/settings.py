"""Django settings for @sessionbridge/django's interop suite (driven by sbdjango.py)."""
import os

SECRET_KEY = os.environ['SB_SECRET_KEY']
DEFAULT_HASHING_ALGORITHM = os.environ.get('SB_HASHING_ALGORITHM', 'sha256')
USE_TZ = True
INSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes', 'django.contrib.sessions']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
_db = os.environ['SB_DB']
if _db.startswith('postgres:'):
    DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': _db[9:], 'USER': 'postgres',
                             'HOST': '127.0.0.1', 'PORT': '5432'}}
else:
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': _db[7:]}}
