"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`.

A configuration the app refuses (or cannot read) is one line on stderr and exit status 1,
not a traceback.
"""

from myapi import create_app
from myapi.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    raise SystemExit(f"myapi: {error}") from None
