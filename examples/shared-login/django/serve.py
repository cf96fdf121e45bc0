#!/usr/bin/env python3
"""Serves the Django app with gunicorn (Debian's `gunicorn` package), as a deployment would.

Listens on 127.0.0.1:$DJANGO_PORT (0 = any free port) and prints the URL once it is listening, so
the Node launcher can read it. Ends when its parent does, whatever way the parent ends: the kernel
sends SIGTERM when the parent dies (Linux PR_SET_PDEATHSIG, which covers SIGKILL too), and the
end of stdin (the launcher's pipe) does the same elsewhere. SIGTERM/SIGINT stop it gracefully.
"""
import ctypes
import os
import signal
import sys
import threading

from gunicorn.app.base import BaseApplication

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sharedlogin.settings')

from sharedlogin.wsgi import application  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """SIGTERM to this process as soon as its parent exits (Linux only; a no-op elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def watch_stdin():
    """The launcher holds our stdin open; EOF means it is gone."""
    def run():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=run, name='parent-watch', daemon=True).start()


def when_ready(server):
    port = server.LISTENERS[0].sock.getsockname()[1]
    print('Django listening on http://127.0.0.1:%d' % port, flush=True)
    watch_stdin()


class Server(BaseApplication):
    def load_config(self):
        settings = {
            'bind': '127.0.0.1:%d' % int(os.environ.get('DJANGO_PORT') or '3004'),
            # Threads so a slow request (a password hash) never stalls the others; the listen
            # backlog is gunicorn's 2048, not the development server's 5.
            'workers': int(os.environ.get('DJANGO_WORKERS') or '2'),
            'worker_class': 'gthread',
            'threads': 8,
            'timeout': 30,
            # Idle keep-alive connections stay open longer than a client keeps them (undici: 4 s):
            # with gunicorn's 2 s default a client could send on a socket the server was closing
            # ("other side closed"), as Node's docs warn. 75 s is nginx's default.
            'keepalive': 75,
            'graceful_timeout': 5,
            'accesslog': None,
            'errorlog': '-',
            'loglevel': 'warning',
            'when_ready': when_ready,
            'proc_name': 'shared-login-django',
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return application


if __name__ == '__main__':
    die_with_parent()
    Server().run()
