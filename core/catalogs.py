"""Lookups in the fixed catalogs (frameworks, specifications, runtimes): an entry by its
key, else an error that names every key the catalog knows."""

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def entry(catalog: Mapping[str, T], key: str, kind: str, error: type[ValueError]) -> T:
    """`catalog[key]`; raises `error` saying `key` is not a known `kind`, with the known keys."""
    try:
        return catalog[key]
    except KeyError:
        known = ", ".join(catalog)
        raise error(f"'{key}' is not a known {kind}. Known: {known}.") from None
