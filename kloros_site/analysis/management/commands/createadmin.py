from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first admin user (once); its password goes to the state folder, readable by you only."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model()
        password_file = settings.STATE_DIR / "admin_password"
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"an admin exists already; its first password, if unchanged, is in {password_file}"
            )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        self.stdout.write(f"created admin user {username!r}; password in {password_file}")
