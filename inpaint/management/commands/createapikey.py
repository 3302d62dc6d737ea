"""``manage.py createapikey <username> [--name NAME]``: a personal key for the gateway, printed as the last line."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inpaint.api.keys import api_key_create


class Command(BaseCommand):
    help = "Make a personal API key for the DashScope-compatible gateway; the key is printed once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the key is for, e.g. the script's name")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No person has the user name {username!r}.")
        api_key, key = api_key_create(user, name)
        self.stderr.write(f"API key {api_key.prefix} for {username}: it is shown only now, and stored only as a hash.")
        # Printed alone on the last line, so a script can take it with `tail -n 1`.
        self.stdout.write(key)
