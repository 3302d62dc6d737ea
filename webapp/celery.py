import os

from celery import Celery

from webapp.memory import large_blocks_returned

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
# Before the pool forks, so every pool process has it: a 100 MP fill then leaves nothing behind.
large_blocks_returned()

app = Celery("webapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
