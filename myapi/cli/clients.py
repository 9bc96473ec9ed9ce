"""`flask clients ...`: OAuth clients for other services."""

from __future__ import annotations

from flask.cli import AppGroup

clients = AppGroup("clients", help="Manage OAuth clients (client credentials grant).")
