"""The Celery app: Redis broker, builds on their own queue, acks late, one at a time."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shipway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
