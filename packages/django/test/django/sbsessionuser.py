"""The SQL README's receiver, verbatim: lists the sessions Django logs in in sessionbridge's user table."""
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver

@receiver(user_logged_in)
def list_session_user(sender, request, user, **kwargs):
    key = request.session.session_key
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sessionbridge_session_user WHERE session_key = %s", [key])
        cursor.execute(
            "INSERT INTO sessionbridge_session_user (session_key, user_id) VALUES (%s, %s)",
            [key, str(user.pk)],
        )
