"""The shared-login HTTP contract, served by Django: /whoami, /login, /logout, /counter and a page.

Django's CsrfViewMiddleware is on: every POST needs the `csrftoken` cookie's token in X-CSRFToken
or the csrfmiddlewaretoken field; /whoami and the page set the cookie (ensure_csrf_cookie). Logins
are counted in the attempt table the Node apps use (throttle.py): over a limit, 429 + Retry-After.
"""
import json
import os

from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.utils.encoding import iri_to_uri
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie

from .throttle import Attempt

COUNT_KEY = 'count'
MAX_NEXT_LENGTH = 2048


class HttpResponseSeeOther(HttpResponseRedirect):
    """303, as the Node apps answer a form POST (HttpResponseRedirect is a 302)."""
    status_code = 303


def _who(request):
    user = request.user
    if user.is_authenticated:
        return {'authenticated': True, 'id': str(user.pk), 'username': user.get_username()}
    return {'authenticated': False, 'id': None, 'username': None}


def _fields(request):
    """username/password/next from a JSON body or a form; None for a malformed body (as the Node apps)."""
    if request.content_type == 'application/json':
        try:
            body = json.loads(request.body or b'{}')
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            return None
        if not isinstance(body, dict):
            return None
        return {k: body.get(k) if isinstance(body.get(k), str) else '' for k in ('username', 'password', 'next')}
    return {k: request.POST.get(k, '') for k in ('username', 'password', 'next')}


def _next_of(request):
    fields = _fields(request)
    return _safe_next(request, fields['next']) if fields else None


def _safe_next(request, value):
    """A same-site relative path, percent-encoded for the Location header, or None (src/next.ts)."""
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_LENGTH:
        return None
    if not value.startswith('/') or value.startswith('//') or '\\' in value:
        return None
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return None
    return iri_to_uri(value)


def _with_error_flag(nxt):
    path, hash_, fragment = nxt.partition('#')
    return path + ('&' if '?' in path else '?') + 'error=1' + hash_ + fragment


def csrf_failure(request, reason=''):
    """The contract's 403: JSON with Django's reason, like the Node apps' refusal."""
    return JsonResponse({'error': 'CSRF verification failed', 'reason': reason}, status=403)


@ensure_csrf_cookie
def whoami(request):
    return JsonResponse(_who(request))


def login_view(request):
    if request.method != 'POST':
        return HttpResponseNotAllowed(['POST'])
    fields = _fields(request)
    if fields is None:
        return JsonResponse({'error': 'send username and password as JSON or a form'}, status=400)
    nxt = _safe_next(request, fields['next'])
    attempt = Attempt(fields['username'], request.META.get('REMOTE_ADDR'))
    if attempt.retry_after is not None:
        response = JsonResponse({'error': 'too many login attempts'}, status=429)
        response['Retry-After'] = str(attempt.retry_after)
        return response
    user = authenticate(request, username=fields['username'], password=fields['password'])
    if user is not None:
        attempt.succeeded()
    if user is None:
        if nxt:
            return HttpResponseSeeOther(_with_error_flag(nxt))
        return JsonResponse({'error': 'invalid username or password'}, status=401)
    login(request, user)
    if nxt:
        return HttpResponseSeeOther(nxt)
    return JsonResponse({'id': str(user.pk), 'username': user.get_username()})


def logout_view(request):
    if request.method != 'POST':
        return HttpResponseNotAllowed(['POST'])
    nxt = _next_of(request)
    logout(request)
    return HttpResponseSeeOther(nxt) if nxt else HttpResponse(status=204)


def counter(request):
    if request.method != 'POST':
        return HttpResponseNotAllowed(['POST'])
    count = request.session.get(COUNT_KEY, 0)
    request.session[COUNT_KEY] = (count if isinstance(count, int) else 0) + 1
    nxt = _next_of(request)
    return HttpResponseSeeOther(nxt) if nxt else JsonResponse({'count': request.session[COUNT_KEY]})


def _links():
    """The other apps, as the Node launcher passes them: SHARED_LOGIN_LINKS='[["Fastify","http://..."],...]'."""
    try:
        links = json.loads(os.environ.get('SHARED_LOGIN_LINKS') or '[]')
        return [(str(name), str(url)) for name, url in links]
    except (ValueError, TypeError):
        return []


@ensure_csrf_cookie
def page(request):
    who = _who(request)
    token = '<input type="hidden" name="csrfmiddlewaretoken" value="%s">' % escape(get_token(request))
    count = request.session.get(COUNT_KEY, 0)
    links = ''.join(
        '<li><a href="%s">%s</a></li>' % (escape(url), escape(name)) for name, url in _links()
    )
    error = '<p class="error">Wrong username or password.</p>' if request.GET.get('error') else ''
    if who['authenticated']:
        account = (
            '<p class="user">Logged in as <strong id="username">%s</strong> (id %s)</p>'
            '<form method="post" action="/logout"><input type="hidden" name="next" value="/">%s'
            '<button type="submit">Log out</button></form>' % (escape(who['username']), escape(who['id']), token)
        )
    else:
        account = (
            '<p class="user">Not logged in.</p>%s'
            '<form method="post" action="/login" class="login"><input type="hidden" name="next" value="/">%s'
            '<label>Username <input name="username" autocomplete="username"></label>'
            '<label>Password <input name="password" type="password" autocomplete="current-password"></label>'
            '<button type="submit">Log in</button></form>' % (error, token)
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Django · sessionbridge shared login</title>'
        '<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}'
        'h1{color:#0c4b33}h1 small{font-size:.5em;color:#666;font-weight:normal}'
        'label{display:block;margin:.3rem 0}.error{color:#b00}</style></head><body>'
        '<h1><span id="app">Django</span> <small>sessions in django_session, read by Django itself</small></h1>%s'
        '<form method="post" action="/counter"><input type="hidden" name="next" value="/">%s'
        '<p>Counter: <strong id="count">%d</strong> <button type="submit">+1</button></p></form>'
        '<nav><p>The same session in the other apps:</p><ul>%s</ul></nav></body></html>'
    ) % (account, token, count if isinstance(count, int) else 0, links)
    return HttpResponse(html)
