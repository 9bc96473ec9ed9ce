"""`python -m myapi` (or the `myapi` command): serve the app with gunicorn.

With the settings of `myapi.serving` (GUNICORN_* in the environment) and the app from
`myapi.create_app()`, so an installed wheel needs nothing from a checkout. Further gunicorn
options may follow, e.g. `python -m myapi --bind 127.0.0.1:8000`.
"""

from __future__ import annotations

import sys

from gunicorn.app.wsgiapp import run


def main() -> None:
    sys.argv = [
        sys.argv[0],
        "--config",
        "python:myapi.serving",
        *sys.argv[1:],
        "myapi:create_app()",
    ]
    run()


if __name__ == "__main__":
    main()
