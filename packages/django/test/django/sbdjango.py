"""Drives a real Django for the interop tests: one JSON command per stdin line, one JSON answer per line."""
import base64, hashlib, json, logging, os, sys, time
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')
import django
django.setup()
from django.contrib import auth
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.core.management import call_command
from django.http import HttpRequest
if os.environ.get('SB_SESSION_USER_RECEIVER') == '1':
    import sbsessionuser  # noqa: F401  (connects the user_logged_in receiver of the SQL README)

warnings = []
class Capture(logging.Handler):
    def emit(self, record): warnings.append(record.getMessage())
logging.getLogger('django.security').addHandler(Capture())

def request_for(key):
    request = HttpRequest()
    request.session = SessionStore(session_key=key)
    return request

def user_json(u):
    return None if u is None or not u.is_authenticated else {'id': u.pk, 'username': u.username, 'password': u.password}

def scrypt_encode(password, salt, n=2**14, r=8, p=1):  # ScryptPasswordHasher's format, for 3.2
    dk = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=0, dklen=64)
    return 'scrypt$%d$%s$%d$%d$%s' % (n, salt, r, p, base64.b64encode(dk).decode('ascii').strip())

def _has_hasher(algorithm):
    try:
        get_hasher(algorithm)
        return True
    except ValueError:
        return False

def session_row(key):
    row = SessionStore().model.objects.filter(session_key=key).first()
    return row and {'session_data': row.session_data, 'expire_date': row.expire_date.isoformat()}

def run(cmd, a):
    if cmd == 'version':
        from django.conf import settings
        return {'version': django.get_version(), 'iterations': get_hasher().iterations,
                'hashers': list(settings.PASSWORD_HASHERS),
                'algorithms': [get_hasher(alg).algorithm for alg in
                               ('pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'scrypt')
                               if _has_hasher(alg)]}
    if cmd == 'migrate':
        call_command('migrate', verbosity=0, interactive=False)
        return True
    if cmd == 'create_user':
        u = User.objects.create_user(a['username'], a.get('email', ''), a['password'],
                                     is_superuser=a.get('is_superuser', False), is_active=a.get('is_active', True))
        return user_json(u)
    if cmd == 'user':
        u = User.objects.filter(username=a['username']).first()
        return u and {**user_json(u), 'last_login': u.last_login and u.last_login.isoformat(),
                      'email': u.email, 'is_active': u.is_active, 'date_joined': u.date_joined.isoformat()}
    if cmd == 'make_session':
        s = SessionStore()
        s.update(a['data'])
        s.save()
        return {'key': s.session_key, 'session_data': s.model.objects.get(session_key=s.session_key).session_data}
    if cmd == 'encode':
        return SessionStore().encode(a['data'])
    if cmd == 'decode':
        warnings.clear()
        try:
            return {'value': SessionStore().decode(a['session_data']), 'warnings': list(warnings)}
        except Exception as e:
            return {'error': type(e).__name__, 'warnings': list(warnings)}
    if cmd == 'read_session':
        s = SessionStore(session_key=a['key'])
        return {'exists': s.exists(a['key']), 'data': s.load(), 'row': session_row(a['key'])}
    if cmd == 'set_expiry':
        # A view calling set_expiry(datetime) or (seconds), then SessionMiddleware saving the session.
        from datetime import datetime, timezone as tz
        s = SessionStore(session_key=a.get('key'))
        if 'at' in a:
            s.set_expiry(datetime.fromtimestamp(a['at'], tz.utc))
        else:
            s.set_expiry(a['seconds'])
        s.update(a.get('data', {}))
        try:
            s.save()
        except Exception as e:
            return {'error': '%s: %s' % (type(e).__name__, e)}
        return {'key': s.session_key, 'data': dict(s.items()), 'row': session_row(s.session_key)}
    if cmd == 'expiry':
        # What SessionMiddleware would send for this session: cookie max-age and expiry date.
        s = SessionStore(session_key=a['key'])
        if not s.exists(a['key']):
            return {'exists': False}
        try:
            return {'exists': True, 'age': s.get_expiry_age(), 'date': s.get_expiry_date().isoformat(),
                    'at_browser_close': s.get_expire_at_browser_close()}
        except Exception as e:
            return {'exists': True, 'error': type(e).__name__}
    if cmd == 'request':
        # One request through AuthenticationMiddleware + SessionMiddleware: get_user, then save if modified.
        request = request_for(a['key'])
        user = auth.get_user(request)
        if request.session.modified and not request.session.is_empty():
            request.session.save()
        key = request.session.session_key
        return {'user': user_json(user), 'key': key, 'old_exists': SessionStore().exists(a['key']),
                'data': dict(request.session.items()) if key else None}
    if cmd == 'login':
        request = request_for(a.get('session_key'))
        user = auth.authenticate(request, username=a['username'], password=a['password'])
        if user is None:
            return None
        auth.login(request, user)
        request.session.save()
        return {'key': request.session.session_key, 'data': dict(request.session.items())}
    if cmd == 'get_user':
        request = request_for(a['key'])
        user = auth.get_user(request)
        return {'user': user_json(user), 'exists': SessionStore().exists(a['key'])}
    if cmd == 'logout':
        request = request_for(a['key'])
        request.user = auth.get_user(request)
        auth.logout(request)
        return {'exists': SessionStore().exists(a['key'])}
    if cmd == 'check_password':
        u = User.objects.get(username=a['username'])
        return {'ok': u.check_password(a['password']), 'password': User.objects.get(pk=u.pk).password}
    if cmd == 'change_password':
        u = User.objects.get(username=a['username'])
        u.set_password(a['password'])
        u.save()
        return u.password
    if cmd == 'make_password':
        if a['hasher'] == 'scrypt' and not _has_hasher('scrypt'):
            return scrypt_encode(a['password'], a.get('salt') or get_hasher().salt())
        hasher = get_hasher(a['hasher'])
        if 'iterations' in a:
            return hasher.encode(a['password'], a['salt'], a['iterations'])
        return make_password(a['password'], a.get('salt'), a['hasher'])
    if cmd == 'check_encoded':
        try:
            return {'ok': check_password(a['password'], a['encoded'])}
        except Exception as e:
            return {'error': type(e).__name__}
    if cmd == 'must_update':
        return get_hasher().must_update(a['encoded'])
    if cmd == 'grant':
        u = User.objects.get(username=a['username'])
        app_label, codename = a['perm'].split('.')
        perm = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        if a.get('group'):
            g, _ = Group.objects.get_or_create(name=a['group'])
            g.permissions.add(perm)
            u.groups.add(g)
        else:
            u.user_permissions.add(perm)
        return True
    if cmd == 'has_perm':
        return User.objects.get(username=a['username']).has_perm(a['perm'])
    if cmd == 'json_dumps':
        return json.dumps(a['value'], separators=(',', ':'))
    if cmd == 'float_reprs':
        import random
        rnd = random.Random(a['seed'])
        values = [rnd.uniform(-1, 1) * 10 ** rnd.randint(-30, 30) for _ in range(a['count'])]
        values += [1e-7, 1e-5, 1e-4, 0.0001, 1.5, 1e16 + 0.5, 123456789012345.6, 1e22 + 0.5, 5e-324, 1.7976931348623157e308]
        return {'json': json.dumps(values, separators=(',', ':')), 'reprs': [repr(v) for v in values]}
    if cmd == 'dumps':
        return signing.dumps(a['value'], salt=a['salt'], compress=a.get('compress', False))
    if cmd == 'loads':
        try:
            return {'value': signing.loads(a['signed'], salt=a['salt'], max_age=a.get('max_age'))}
        except signing.BadSignature as e:
            return {'error': type(e).__name__}
    if cmd == 'time_decode':
        store, data, n = SessionStore(), a['session_data'], a['n']
        start = time.perf_counter()
        for _ in range(n):
            store.decode(data)
        return (time.perf_counter() - start) / n
    if cmd == 'time_check_password':
        encoded, n = make_password(a['password']), a['n']
        start = time.perf_counter()
        for _ in range(n):
            check_password(a['password'], encoded)
        return (time.perf_counter() - start) / n
    raise ValueError('unknown command %r' % cmd)

for line in sys.stdin:
    msg = json.loads(line)
    try:
        reply = {'ok': True, 'result': run(msg['cmd'], msg.get('args', {}))}
    except Exception as e:
        reply = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
