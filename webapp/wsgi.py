import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_wsgi_application()

# Imported once Django is set up: it reads the database through the app's models.
from inpaint.card_polls import CardPollShortcut  # noqa: E402

application = CardPollShortcut(application)
