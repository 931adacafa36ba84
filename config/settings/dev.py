"""Embedded default used by `make run` and by manage.py when nothing is set."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, env

DEBUG = env.bool("DEBUG", default=True)
INSTALLED_APPS = ["whitenoise.runserver_nostatic", *INSTALLED_APPS]
