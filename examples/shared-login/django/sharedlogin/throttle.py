"""Login attempt limits shared with the Node apps: the same table (sessionbridge_attempt, created by
the Node stack's sqlAttemptStore().migrate()), the same keys and the same default limits as
@sessionbridge/core's loginThrottle, so a guesser cannot switch apps to get more attempts.
"""
import base64
import hashlib
import math
import time
import unicodedata

from django.db import connection, transaction

TABLE = 'sessionbridge_attempt'
# loginThrottle's defaults: 10 attempts per username, 100 per client address, per 15 minutes.
PER_USERNAME = (10, 15 * 60 * 1000)
PER_ADDRESS = (100, 15 * 60 * 1000)


def _key(kind, text):
    """`u:`/`a:` and 128 bits of SHA-256, base64url: what core's throttle writes."""
    digest = hashlib.sha256(text.encode('utf-8')).digest()[:16]
    return kind + ':' + base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


def _hit(key, window_ms):
    now = int(time.time() * 1000)
    end = now + window_ms
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == 'mysql':
            cursor.execute(
                'INSERT INTO ' + TABLE + ' (attempt_key, attempts, reset_at) VALUES (%s, 1, %s) '
                'ON DUPLICATE KEY UPDATE attempts = IF(reset_at <= %s, 1, attempts + 1), '
                'reset_at = IF(reset_at <= %s, %s, reset_at)', [key, end, now, now, end])
            cursor.execute('SELECT attempts, reset_at FROM ' + TABLE + ' WHERE attempt_key = %s', [key])
        else:
            cursor.execute(
                'INSERT INTO ' + TABLE + ' AS a (attempt_key, attempts, reset_at) VALUES (%s, 1, %s) '
                'ON CONFLICT (attempt_key) DO UPDATE SET '
                'attempts = CASE WHEN a.reset_at <= %s THEN 1 ELSE a.attempts + 1 END, '
                'reset_at = CASE WHEN a.reset_at <= %s THEN %s ELSE a.reset_at END '
                'RETURNING attempts, reset_at', [key, end, now, now, end])
        count, reset_at = cursor.fetchone()
    return int(count), max(1, math.ceil((int(reset_at) - now) / 1000))


class Attempt:
    """One login attempt, counted before the password is checked (as core's loginThrottle does)."""

    def __init__(self, username, address):
        name = unicodedata.normalize('NFKC', username or '').lower()
        self.user_key = _key('u', name)
        self.address_key = _key('a', address) if address else None
        self.retry_after = None
        count, retry = _hit(self.user_key, PER_USERNAME[1])
        if count > PER_USERNAME[0]:
            self.retry_after = retry
            return
        if self.address_key:
            count, retry = _hit(self.address_key, PER_ADDRESS[1])
            if count > PER_ADDRESS[0]:
                self.retry_after = retry

    def succeeded(self):
        """A login worked: forget the username's attempts, give the address its attempt back."""
        now = int(time.time() * 1000)
        with connection.cursor() as cursor:
            cursor.execute('DELETE FROM ' + TABLE + ' WHERE attempt_key = %s', [self.user_key])
            if self.address_key:
                cursor.execute(
                    'UPDATE ' + TABLE + ' SET attempts = attempts - 1 '
                    'WHERE attempt_key = %s AND attempts > 0 AND reset_at > %s', [self.address_key, now])
