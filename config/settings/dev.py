"""Embedded default used by `make run` and by manage.py when nothing is set.

DEBUG stays off unless asked for (`DEBUG=true make run`): the demo should show the
product's own Chinese error pages, not Django's technical ones. Static files are
served by whitenoise straight from the source folders, so no collectstatic is needed.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, env

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
INSTALLED_APPS = ["whitenoise.runserver_nostatic", *INSTALLED_APPS]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
