"""A PBKDF2 hasher with the work factor of SB_PBKDF2_ITERATIONS (the documented way to change it)."""
import os
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class CustomPBKDF2(PBKDF2PasswordHasher):
    iterations = int(os.environ.get('SB_PBKDF2_ITERATIONS', PBKDF2PasswordHasher.iterations))
