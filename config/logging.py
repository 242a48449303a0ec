"""Structured logging: structlog for our code, the same renderer for the stdlib's.

Modules log with `structlog.get_logger(__name__)`, fixed event names and keyword data.
Request and task code binds ids (site, deployment, build) with
`structlog.contextvars.bind_contextvars`, so every later line carries them.
"""

import logging
import logging.config
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
