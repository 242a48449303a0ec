"""Identifiers: server-made ids, and the rules for ids clients choose themselves."""

import re
import secrets
import time

from django.core.validators import RegexValidator

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

# docs/api.md, Conventions: lowercase letters, digits and "-", 1 to 36 characters,
# starting with a letter or digit. These ids become DNS labels ({siteId}.{SITES_DOMAIN}),
# hence the rule.
CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,35}$")
client_id_validator = RegexValidator(
    CLIENT_ID_PATTERN,
    "Use 1 to 36 lowercase letters, digits or '-', starting with a letter or digit.",
)
# A site id is also the tail of its deployments' one-label addresses,
# {deploymentId}--{siteId}.{SITES_DOMAIN}: it never holds "--" itself, so that the first
# "--" of such a label always ends the deployment id (sites/hosts.py).
SITE_ID_PATTERN = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{0,35}$")
site_id_validator = RegexValidator(
    SITE_ID_PATTERN,
    "Use 1 to 36 lowercase letters, digits or '-' (never two in a row), starting with a "
    "letter or digit.",
)


def new_id() -> str:
    """A 20-character lowercase alphanumeric id; ids made later sort after earlier ones."""
    stamp = int(time.time() * 1000)
    head = ""
    for _ in range(9):
        stamp, digit = divmod(stamp, 36)
        head = _ALPHABET[digit] + head
    return head + "".join(secrets.choice(_ALPHABET) for _ in range(11))
