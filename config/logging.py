"""Structured logging: structlog for our code, the same renderer for the stdlib's.

Modules log with `structlog.get_logger(__name__)`, fixed event names and keyword data.
Request and task code binds ids (site, deployment, build) with
`structlog.contextvars.bind_contextvars`, so every later line carries them.
"""

import logging
import logging.config
import re
from typing import Any

import structlog

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def make_formatter(log_format: str = "console") -> logging.Formatter:
    """A stdlib formatter that renders structlog and plain records alike."""
    renderer = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


# A deploy hook's address is its secret; Django's request log and ours name paths.
_HOOK_SECRET = re.compile(r"(/v1/hooks/deploy/)[^/?#\s\"']+")


def _redacted(value: Any) -> Any:
    return _HOOK_SECRET.sub(r"\1***", value) if isinstance(value, str) else value


class RedactHookSecrets(logging.Filter):
    """Masks deploy hook addresses in every record: a message's arguments (Django's
    "Not Found: <path>") and a structlog event's values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = {key: _redacted(value) for key, value in record.msg.items()}
        else:
            record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def configure(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG hook: set up the stdlib, then route structlog through it."""
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
