"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from myapi import create_app

app = create_app()
