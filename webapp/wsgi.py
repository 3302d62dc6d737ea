import os

from django.core.wsgi import get_wsgi_application

from webapp.memory import large_blocks_returned

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
large_blocks_returned()  # before any picture is opened: a decode bomb then leaves nothing behind
application = get_wsgi_application()

# Imported once Django is set up: it reads the database through the app's models.
from inpaint.card_polls import CardPollShortcut  # noqa: E402

application = CardPollShortcut(application)
