"""Logging configuration for the CLI and the scheduled service (the only place that installs handlers).

On a terminal: readable one-line records. Otherwise (systemd, cron, containers): one JSON object per line, so
journald/Loki/Elastic can index the fields without parsing free text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

#: LogRecord attributes that are not "extra" fields
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonLinesFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "msg": ..., **extra}`` per line; tracebacks under ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: int | str = "INFO", *, json_lines: bool | None = None) -> None:
    """Install one stderr handler on the root logger. ``json_lines=None``: JSON when stderr is not a TTY."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLinesFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # chatty libraries stay at WARNING unless we are debugging
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in ("urllib3", "httpx", "httpcore", "aiosmtpd", "mail.log", "weasyprint", "alembic"):
        logging.getLogger(name).setLevel(quiet)
    # their debug output is internals (GX dumps every asset's field specs), never useful to an auditor
    for name in ("great_expectations", "fontTools", "PIL"):
        logging.getLogger(name).setLevel(logging.WARNING)
