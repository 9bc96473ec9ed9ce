"""Flask CLI command groups, one module per group; the factory registers `COMMAND_GROUPS`."""

from __future__ import annotations

from myapi.cli.clients import clients
from myapi.cli.keys import keys
from myapi.cli.mail import mail
from myapi.cli.users import tokens, users

COMMAND_GROUPS = (users, tokens, clients, keys, mail)
