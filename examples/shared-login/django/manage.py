#!/usr/bin/env python3
"""Django's command line for the shared-login example (settings read the same env as the Node apps)."""
import os
import sys

if __name__ == '__main__':
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sharedlogin.settings')
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
