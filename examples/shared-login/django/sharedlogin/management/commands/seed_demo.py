from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = 'Creates the demo user (demo / demo-password) unless a user of that name exists.'

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(username='demo').exists():
            User.objects.create_user('demo', 'demo@example.com', 'demo-password', first_name='Demo')
            self.stdout.write('created user demo')
