"""gunicorn's settings file for a checkout: `gunicorn -c gunicorn.conf.py wsgi:app`.

The settings themselves are in `myapi/serving.py`, so an installed wheel (`python -m myapi`)
serves with the same ones.
"""

from myapi.serving import *  # noqa: F403
