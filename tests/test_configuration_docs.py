"""Every setting the code reads is documented and listed in .env.example, and nothing else is.

A setting lives in three places (the code that reads it, docs/configuration.md, .env.example);
this test records every environment variable the configuration classes and the server's
settings module read, and compares the three.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any

import pytest

from myapi import config, serving

ROOT = Path(__file__).resolve().parent.parent
_DOCUMENTED = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.M)
_EXAMPLE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=", re.M)
#: Variables the server sets for itself, never read as a setting.
_INTERNAL = {"MYAPI_METRICS_DIR_MADE_BY_GUNICORN"}


class RecordingEnviron(dict):
    """`os.environ` that remembers every name looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self.read.add(str(name))
        return super().__contains__(name)


@pytest.fixture
def settings_read_by_the_code(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    # With metrics on, so that the server's metrics directory setting is read too.
    environ = RecordingEnviron({"METRICS_ENABLED": "true"})
    monkeypatch.setattr(os, "environ", environ)
    for config_class in config.CONFIGS.values():
        config_class().unsafe_reasons()
    config.select_config()
    importlib.reload(serving)
    serving.on_exit(None)  # removes the metrics directory the reload made
    return environ.read - _INTERNAL


def documented() -> set[str]:
    return set(_DOCUMENTED.findall((ROOT / "docs" / "configuration.md").read_text("utf-8")))


def in_env_example() -> set[str]:
    return set(_EXAMPLE.findall((ROOT / ".env.example").read_text("utf-8")))


def test_every_setting_the_code_reads_is_documented(settings_read_by_the_code: set[str]) -> None:
    assert settings_read_by_the_code - documented() == set()


def test_every_documented_setting_is_read_by_the_code(settings_read_by_the_code: set[str]) -> None:
    assert documented() - settings_read_by_the_code == set()


def test_env_example_lists_exactly_the_documented_settings() -> None:
    assert in_env_example() == documented()
