#!/usr/bin/env python3
"""Serves the Django app with the standard library's WSGI server (no extra packages).

Listens on 127.0.0.1:$DJANGO_PORT (0 = any free port) and prints the URL once it is listening, so a
launcher can read it. Exits cleanly on SIGINT/SIGTERM.
"""
import os
import signal
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sharedlogin.settings')

from sharedlogin.wsgi import application  # noqa: E402


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main():
    port = int(os.environ.get('DJANGO_PORT') or '3004')
    server = make_server('127.0.0.1', port, application, ThreadingWSGIServer, QuietHandler)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print('Django listening on http://127.0.0.1:%d' % server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
