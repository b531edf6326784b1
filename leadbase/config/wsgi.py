"""WSGI entry point: `granian --interface wsgi leadbase.config.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.config.settings")
application = get_wsgi_application()
