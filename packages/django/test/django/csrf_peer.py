"""A real Django CsrfViewMiddleware for the CSRF interop suite: one JSON command per stdin line.

Settings come from the environment: SB_CSRF_TRUSTED (a JSON list in 4.0+ syntax, turned into 3.2's
host syntax when this Django is older). A refusal's reason is Django's own text (CSRF_FAILURE_VIEW).
"""
import json
import logging
import os
import sys
from urllib.parse import urlparse

import django
from django.conf import settings

TRUSTED = json.loads(os.environ.get('SB_CSRF_TRUSTED', '[]'))
if django.VERSION < (4, 0):
    # 3.2 lists hosts ('.example.com'), 4.0+ origins ('https://*.example.com').
    TRUSTED = [urlparse(o).netloc.replace('*', '') for o in TRUSTED]

settings.configure(
    SECRET_KEY='csrf-interop-secret-key-0123456789abcdefghijklmnop',
    ALLOWED_HOSTS=['*'],
    USE_TZ=True,
    INSTALLED_APPS=['django.contrib.auth', 'django.contrib.contenttypes', 'django.contrib.sessions'],
    DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}},
    DEFAULT_AUTO_FIELD='django.db.models.AutoField',
    PASSWORD_HASHERS=['django.contrib.auth.hashers.MD5PasswordHasher'],
    CSRF_TRUSTED_ORIGINS=TRUSTED,
    CSRF_FAILURE_VIEW='__main__.failure',
    SESSION_ENGINE='django.contrib.sessions.backends.signed_cookies',
    LOGGING_CONFIG=None,
)
django.setup()
logging.disable(logging.CRITICAL)

from django.contrib.auth import login  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.middleware import SessionMiddleware  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.middleware.csrf import CsrfViewMiddleware, get_token  # noqa: E402
from django.test import RequestFactory  # noqa: E402

call_command('migrate', verbosity=0)
USER = User.objects.create_user('alice', password='alice-password')
factory = RequestFactory()


def view(request):
    return HttpResponse('ok')


def failure(request, reason=''):
    return HttpResponse(reason, status=403)


def build(args):
    """A request as the browser would send it: method, host, scheme, cookies, headers, form field."""
    extra = {'HTTP_HOST': args.get('host', 'app.example')}
    for name, meta in (('origin', 'HTTP_ORIGIN'), ('referer', 'HTTP_REFERER'), ('header', 'HTTP_X_CSRFTOKEN')):
        if args.get(name) is not None:
            extra[meta] = args[name]
    data = {'csrfmiddlewaretoken': args['field']} if args.get('field') is not None else {}
    method = args.get('method', 'POST').lower()
    request = getattr(factory, method)('/', data=data, secure=bool(args.get('secure')), **extra)
    request.COOKIES = dict(args.get('cookies') or {})
    SessionMiddleware(view).process_request(request)
    return request


def run(args, action):
    """Runs the middleware around `action` (None = just check) and reports what a client sees."""
    request = build(args)
    middleware = CsrfViewMiddleware(view)
    middleware.process_request(request)
    refused = middleware.process_view(request, view, (), {})
    out = {'ok': refused is None}
    if refused is not None:
        out['reason'] = refused.content.decode()
        response = refused
    else:
        out['result'] = action(request) if action else None
        response = HttpResponse('ok')
    response = middleware.process_response(request, response)
    SessionMiddleware(view).process_response(request, response)
    out['status'] = response.status_code
    out['cookies'] = {name: morsel.value for name, morsel in response.cookies.items()}
    return out


COMMANDS = {
    'check': lambda args: run(args, None),
    'token': lambda args: run(args, get_token),
    'login': lambda args: run(args, lambda request: login(request, USER) or get_token(request)),
    'version': lambda args: {'version': django.get_version()},
}

for line in sys.stdin:
    try:
        message = json.loads(line)
        reply = {'ok': True, 'result': COMMANDS[message['cmd']](message.get('args', {}))}
    except Exception as error:  # noqa: BLE001 - reported to the test
        reply = {'ok': False, 'error': repr(error)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
