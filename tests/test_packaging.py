"""The wheel carries every package of the app and the migrations, and nothing else.

setup.cfg lists the packages by hand (the migrations at the root of the checkout ship inside
the package as `myapi.migrations`); this keeps the list whole. `.ci/check-wheel` builds the
wheel, installs it into a fresh virtual environment and runs it.
"""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def listed_packages() -> set[str]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    return {line.strip() for line in setup["options"]["packages"].splitlines() if line.strip()}


def test_setup_cfg_lists_every_package_of_the_app_and_the_migrations() -> None:
    packages = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "myapi").rglob("__init__.py")
    }

    assert listed_packages() == packages | {"myapi.migrations", "myapi.migrations.versions"}
