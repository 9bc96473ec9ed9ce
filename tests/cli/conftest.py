"""Helpers for the CLI tests: commands run through Flask's CLI runner on the test app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    """Invoke `flask <args>` against the test app; `input` is fed to stdin."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(args=list(args), input=input)

    return invoke
