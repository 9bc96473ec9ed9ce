"""What the app logs, as a test sees it: the lines it writes to stderr, parsed."""

from __future__ import annotations

import json
import logging
from typing import Any


class LogLines(logging.Handler):
    """Collects exactly what the app writes to stderr, formatted by the app's own formatter."""

    def __init__(self) -> None:
        super().__init__()
        installed = logging.getLogger("myapi").handlers
        assert installed, "configure_logging installs a handler on the myapi logger"
        self.setFormatter(installed[0].formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def requests(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["logger"] == "myapi.request"]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e.get("event") == name]

    def text(self) -> str:
        return "\n".join(self.lines)


def capture_logs() -> LogLines:
    handler = LogLines()
    logging.getLogger("myapi").addHandler(handler)
    return handler
