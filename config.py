"""The design card's configuration entry point; the settings live in `myapi/config.py`.

Kept at the root for what reads configuration by import path from a checkout
(`gunicorn.conf.py`); the package's module is the one place that reads the environment.
"""

from myapi.config import (  # noqa: F401
    CONFIGS,
    Config,
    ConfigError,
    Development,
    Production,
    Testing,
    env_boolean,
    select_config,
)
