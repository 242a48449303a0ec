"""`_redirects` and `_headers` rules in Netlify's syntax: parsed once, matched per request.

At packaging time `parse_redirects` and `parse_headers` turn the files into plain JSON
data (stored with the manifest); a malformed line raises `RulesError` naming the file
and line. At serving time the edge builds `Rules.from_json(...)` once per deployment and
calls `match_redirect` / `headers_for` per request. This module imports nothing from
Django and compiles every pattern once, in `from_json`.

Matching conventions:

- `path` is the *decoded* URL path, as in the ASGI scope's `path` (Netlify also matches
  decoded paths); patterns are percent-decoded once when compiled. Matching is
  case-sensitive. A trailing slash is ignored: `/blog` and `/blog/` match the same rules.
- `/news/*` matches `/news`, `/news/` and everything below; `:splat` is what `*` covered.
  A `:name` placeholder is a whole path segment. In `_headers`, `*` may also stand inside
  a segment (`/*.jpg`).
- `_redirects` rules apply once, first match wins; a rewrite's target is not matched
  again. All matching `_headers` blocks apply, in file order; a header set by several is
  joined with ", ".
- `Country=`, `Language=`, `Role=` and `Cookie=` conditions are parsed and kept in the
  JSON, but a rule that has any of them never matches here: Shipway has no geolocation,
  no language negotiation and no identity roles at the edge.

Not supported, and refused with a line-numbered error: rewrites (200) or 404s to an
absolute URL (that is proxying another site); domain-level rules (an absolute URL as
FROM, or as a `_headers` path); `*` anywhere but at the end of a `_redirects` FROM;
statuses other than 200, 301, 302, 303, 307, 308 and 404; a redirect to its own path
(it would loop); header values with control or non-ASCII characters; the framing
headers the server owns (Content-Length, Transfer-Encoding, Connection...); and
Set-Cookie: static rules have no business setting cookies, and one with a `Domain`
reaches every site under SITES_DOMAIN (or, were SITES_DOMAIN under the dashboard's
domain, the dashboard). Rules stored before that check lose their Set-Cookie lines when
compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit

MAX_RULES = 1000
MAX_LINE_LENGTH = 2000

REDIRECTS_FILE = "_redirects"
HEADERS_FILE = "_headers"

DEFAULT_STATUS = 301
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
REWRITE_STATUSES = frozenset({200, 404})
CONDITION_KEYS = {key.lower(): key for key in ("Country", "Language", "Role", "Cookie")}

# Framing and hop-by-hop headers belong to the server; setting them would corrupt responses.
RESERVED_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers no `_headers` rule may set (refused at packaging, dropped when compiled).
REFUSED_HEADERS = frozenset({"set-cookie"})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEMPLATE_NAME = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_STATUS = re.compile(r"(\d+)(!?)")
_STATUS_CODES = frozenset(str(code) for code in REDIRECT_STATUSES | REWRITE_STATUSES)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 7230 token
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every C0 control but HTAB, and DEL
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)

# What stays unencoded when a matched value is put into a redirect's Location:
# RFC 3986 path characters in the path; fewer in the query and fragment, so that a
# value cannot add parameters of its own.
_SAFE_IN_PATH = "/!$&'()*+,;=:@~"
_SAFE_IN_QUERY = "/!$'()*,;:@~"
# Literal parts of a redirect target keep their reserved characters and existing
# %-escapes; spaces, non-ASCII and the like are percent-encoded.
_SAFE_LITERAL = "!#$%&'()*+,/:;=?@[]~"


class RulesError(ValueError):
    """A malformed line in `_redirects` or `_headers`.

    `filename` and `line` (1-based) locate it, `reason` is a stable id for programs and
    `message` a sentence for people; `str()` is `"_redirects line 3: unknown status 299"`.
    """

    def __init__(self, filename: str, line: int, message: str, reason: str = "invalid") -> None:
        self.filename = filename
        self.line = line
        self.message = message
        self.reason = reason
        super().__init__(f"{filename} line {line}: {message}")


# --- Parsing (packaging time) -------------------------------------------------------


def _lines(text: str, filename: str) -> Iterator[tuple[int, str]]:
    """(1-based number, line) for every line, line endings removed; enforces the length
    limit. Splits on LF only, so that the numbers are those of an editor."""
    if text.startswith("\ufeff"):
        text = text[1:]
    for index, line in enumerate(text.split("\n")):
        if line.endswith("\r"):
            line = line[:-1]
        if len(line) > MAX_LINE_LENGTH:
            raise RulesError(
                filename,
                index + 1,
                f"line is {len(line)} characters long; the limit is {MAX_LINE_LENGTH}",
                "line_too_long",
            )
        yield index + 1, line


def _too_many(filename: str, number: int, what: str) -> RulesError:
    return RulesError(
        filename, number, f"more than {MAX_RULES} {what}; the limit is {MAX_RULES}", "too_many"
    )


def _check_controls(filename: str, number: int, text: str, where: str) -> None:
    found = _CONTROL.search(text)
    if found:
        char = found.group()
        if char in "\r\n":
            message = f"{where} contains a CR or LF character"
        else:
            message = f"{where} contains the control character U+{ord(char):04X}"
        raise RulesError(filename, number, message, "control_character")


def _check_path_pattern(filename: str, number: int, pattern: str, what: str) -> None:
    """Common checks of a FROM / `_headers` path: a local path, no query, good placeholders."""

    def fail(message: str, reason: str) -> RulesError:
        return RulesError(filename, number, message, reason)

    if _ABSOLUTE.match(pattern):
        raise fail(
            f"{what} {pattern!r} is an absolute URL: domain-level rules are not supported, "
            "use a path starting with /",
            "absolute_from",
        )
    if not pattern.startswith("/"):
        raise fail(f"{what} {pattern!r} must be a path starting with /", "bad_path")
    if "?" in pattern:
        raise fail(
            f"{what} {pattern!r} contains '?': query parameters are matched with separate "
            "name=value fields, e.g. '/store id=:id /blog/:id'",
            "query_in_path",
        )
    seen: set[str] = set()
    for segment in pattern.split("/"):
        if segment.startswith(":"):
            name = segment[1:]
            if not _IDENT.fullmatch(name):
                raise fail(f"invalid placeholder {segment!r} in {pattern!r}", "bad_placeholder")
            if name in seen:
                raise fail(f"placeholder :{name} appears twice in {pattern!r}", "bad_placeholder")
            seen.add(name)


def parse_redirects(text: str) -> list[dict[str, Any]]:
    """Parse a `_redirects` file into JSON-serializable rules, in file order.

    Each line is `FROM [name=value ...] TO [STATUS[!]] [Key=value ...]`; `#` starts a
    comment (a whole line, or from a token starting with `#` to the end of the line).
    `FROM 200!` without a TO is Netlify's forward rule: TO is FROM with `*` as `:splat`.
    Each rule is `{"line", "from", "query", "to", "status", "force", "conditions"}`.
    Raises RulesError on the first malformed line or past MAX_RULES rules.
    """
    rules: list[dict[str, Any]] = []
    for number, line in _lines(text, REDIRECTS_FILE):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(rules) >= MAX_RULES:
            raise _too_many(REDIRECTS_FILE, number, "rules")
        _check_controls(REDIRECTS_FILE, number, line, "the line")
        rules.append(_parse_redirect_line(number, stripped))
    return rules


def _parse_redirect_line(number: int, line: str) -> dict[str, Any]:
    def fail(message: str, reason: str) -> RulesError:
        return RulesError(REDIRECTS_FILE, number, message, reason)

    tokens = line.split()
    for index, token in enumerate(tokens):
        if token.startswith("#"):
            del tokens[index:]
            break
    source, rest = tokens[0], tokens[1:]
    _check_path_pattern(REDIRECTS_FILE, number, source, "FROM")
    if "*" in source[:-1]:
        raise fail(f"'*' is only allowed at the end of FROM, in {source!r}", "bad_splat")
    if ":splat" in source.split("/"):
        raise fail(":splat is reserved for what the '*' of FROM matched", "bad_placeholder")
    if not rest:
        raise fail("missing destination: expected 'FROM TO [STATUS]'", "missing_destination")

    if _STATUS.fullmatch(rest[0]):  # forward rule: `/app/* 200!`
        query_tokens: list[str] = []
        target = source[:-1] + ":splat" if source.endswith("*") else source
        after = rest
    else:
        index = next((i for i, token in enumerate(rest) if _is_destination(token)), len(rest))
        for token in rest[:index]:
            if "=" not in token:
                raise fail(
                    f"expected a query parameter 'name=value' or a destination (a path "
                    f"starting with / or an http(s):// URL), got {token!r}",
                    "bad_token",
                )
        if index == len(rest):
            raise fail(
                "missing destination: it must be a path starting with / or an http(s):// URL",
                "missing_destination",
            )
        query_tokens, target, after = rest[:index], rest[index], rest[index + 1 :]

    query = _parse_query(fail, query_tokens)
    status, force = DEFAULT_STATUS, False
    if after and (found := _STATUS.fullmatch(after[0])):
        status, force = int(found.group(1)), bool(found.group(2))
        if found.group(1) not in _STATUS_CODES:
            raise fail(f"unknown status {found.group(1)}", "unknown_status")
        after = after[1:]
    conditions = _parse_conditions(fail, after)
    if status in REDIRECT_STATUSES and _same_path(source.replace("*", ":splat"), target):
        raise fail(
            f"{source} would redirect to itself, forever (a trailing slash is ignored when "
            "matching, and the query string is kept)",
            "redirect_loop",
        )
    _check_target(fail, target, status)
    names = {s[1:] for s in source.split("/") if s.startswith(":")}
    for value in query.values():
        if value.startswith(":"):
            if value[1:] in names:
                raise fail(f"placeholder {value} appears twice", "bad_placeholder")
            names.add(value[1:])
    return {
        "line": number,
        "from": source,
        "query": query,
        "to": target,
        "status": status,
        "force": force,
        "conditions": conditions,
    }


def _same_path(source: str, target: str) -> bool:
    return "?" not in target and _exact_key(unquote(source)) == _exact_key(unquote(target))


def _is_destination(token: str) -> bool:
    return token.startswith("/") or bool(_ABSOLUTE.match(token))


def _parse_query(fail: Callable[[str, str], RulesError], tokens: list[str]) -> dict[str, str]:
    query: dict[str, str] = {}
    for token in tokens:
        key, _, value = token.partition("=")
        if not key:
            raise fail(f"query parameter {token!r} has no name", "bad_query")
        if key in query:
            raise fail(f"query parameter {key!r} appears twice", "bad_query")
        if value.startswith(":") and not _IDENT.fullmatch(value[1:]):
            raise fail(f"invalid placeholder {value!r} for query parameter {key!r}", "bad_query")
        if value == ":splat":
            raise fail(":splat is reserved for what the '*' of FROM matched", "bad_placeholder")
        query[key] = value
    return query


def _parse_conditions(
    fail: Callable[[str, str], RulesError], tokens: list[str]
) -> dict[str, list[str]]:
    conditions: dict[str, list[str]] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals:
            if _STATUS.fullmatch(token):
                raise fail(
                    f"the status {token!r} must come right after the destination",
                    "misplaced_status",
                )
            raise fail(
                f"expected a status code or a condition 'Key=value' after the destination, "
                f"got {token!r}",
                "bad_token",
            )
        canonical = CONDITION_KEYS.get(key.lower())
        if canonical is None:
            raise fail(
                f"unknown condition {key!r}: expected Country, Language, Role or Cookie",
                "unknown_condition",
            )
        if canonical in conditions:
            raise fail(f"condition {canonical} appears twice", "bad_condition")
        values = [item for item in value.split(",") if item]
        if not values:
            raise fail(f"condition {canonical} needs a value", "bad_condition")
        conditions[canonical] = values
    return conditions


def _check_target(fail: Callable[[str, str], RulesError], target: str, status: int) -> None:
    if target.startswith("//"):
        raise fail(
            f"destination {target!r} is protocol-relative; write https://... or a path",
            "bad_destination",
        )
    if target.startswith("/"):
        return
    try:
        host = urlsplit(target).hostname
        _encode_url(target)
    except ValueError:  # UnicodeError (a bad international host name) is one too
        host = None
    if not host:
        raise fail(f"destination {target!r} is not a valid URL with a host", "bad_destination")
    if status == 200:
        raise fail(
            f"rewriting to an absolute URL ({target}) would proxy another site, which is "
            "not supported; use a 301/302 redirect or a path in this deployment",
            "proxy_unsupported",
        )
    if status == 404:
        raise fail(
            f"a 404 rule serves a page of this deployment, so its destination must be a "
            f"path, not {target}",
            "proxy_unsupported",
        )


def parse_headers(text: str) -> list[dict[str, Any]]:
    """Parse a `_headers` file into JSON-serializable blocks, in file order.

    A path line (conventionally not indented) opens a block; the `Name: value` lines
    after it (conventionally indented) belong to it. `#` lines are comments. Each block
    is `{"line", "for", "values": [[name, value], ...]}`. Raises RulesError on the first
    malformed line or past MAX_RULES path blocks.
    """
    blocks: list[dict[str, Any]] = []
    current: list[list[str]] | None = None
    for number, line in _lines(text, HEADERS_FILE):
        content = line.strip(" \t")
        if not content or content.startswith("#"):
            continue

        if content.startswith("/") or _ABSOLUTE.match(content):
            _check_controls(HEADERS_FILE, number, content, "the path line")
            pattern, *extra = content.split()
            if extra and not extra[0].startswith("#"):
                raise RulesError(
                    HEADERS_FILE,
                    number,
                    f"unexpected {extra[0]!r} after the path {pattern!r} (a path line holds "
                    "one path; percent-encode spaces as %20)",
                    "bad_path",
                )
            _check_path_pattern(HEADERS_FILE, number, pattern, "path")
            if len(blocks) >= MAX_RULES:
                raise _too_many(HEADERS_FILE, number, "path blocks")
            current = []
            blocks.append({"line": number, "for": pattern, "values": current})
            continue

        name, colon, value = content.partition(":")
        if not colon:
            raise RulesError(
                HEADERS_FILE,
                number,
                f"expected an indented 'Name: value' header line or a path starting with /, "
                f"got {content!r}",
                "bad_header",
            )
        if current is None:
            raise RulesError(
                HEADERS_FILE,
                number,
                "header line outside a block: a path line must come before it",
                "no_block",
            )
        if not _TOKEN.fullmatch(name):
            raise RulesError(
                HEADERS_FILE, number, f"invalid header name {name!r}", "bad_header_name"
            )
        if name.lower() in RESERVED_HEADERS:
            raise RulesError(
                HEADERS_FILE,
                number,
                f"the {name} header is set by the server and cannot be set",
                "reserved",
            )
        if name.lower() in REFUSED_HEADERS:
            raise RulesError(
                HEADERS_FILE,
                number,
                f"{name} cannot be set by _headers rules: sites do not set cookies from "
                "static rules",
                "cookie",
            )
        value = value.strip(" \t")
        _check_controls(HEADERS_FILE, number, value, f"the value of {name}")
        if not value.isascii():
            raise RulesError(
                HEADERS_FILE,
                number,
                f"the value of {name} has non-ASCII characters; percent-encode them",
                "bad_header_value",
            )
        current.append([name, value])
    return blocks


# --- Matching (serving time) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedirectMatch:
    """The outcome of a matching `_redirects` rule.

    `rewrite` is True for 200 and 404: serve `target` (a decoded path of this
    deployment, without query) with `status`, keeping the URL. Otherwise `status` is a
    redirect and `target` the Location value: a path or an absolute URL, percent-
    encoded, with the request's query string appended when the rule's TO had none.
    """

    status: int
    target: str
    rewrite: bool
    force: bool
    line: int = 0


_EMPTY_HEADERS: tuple[tuple[str, str], ...] = ()
_NO_GROUPS: dict[str, str | None] = {}


def _pattern_source(pattern: str, *, capture: bool) -> str | None:
    """The regex source (for re.DOTALL) for a path pattern, or None when it has no `*` or
    `:name` (then it is matched by dictionary lookup on `_exact_key`). A trailing slash is
    optional. With `capture`, placeholders and the splat are named groups."""
    segments = pattern[1:].split("/")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()
    if not any("*" in s or (s.startswith(":") and _IDENT.fullmatch(s[1:])) for s in segments):
        return None
    source = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "*" and last:
            source.append("(?:/(?P<splat>.*))?" if capture else "(?:/.*)?")
            break
        if segment.startswith(":") and _IDENT.fullmatch(segment[1:]):
            source.append(f"/(?P<{segment[1:]}>[^/]+)" if capture else "/[^/]+")
        elif capture and "*" in segment:  # `_redirects`: only at the end, e.g. `/news*`
            source.append(f"/{re.escape(unquote(segment[:-1]))}(?P<splat>.*)")
            break
        else:
            source.append("/" + ".*".join(re.escape(unquote(p)) for p in segment.split("*")))
    else:
        source.append("/?")
    source.append(r"\Z")
    return "".join(source)


def _exact_key(path: str) -> str:
    """The lookup key of a path: without one trailing slash (the root stays `/`)."""
    return path[:-1] if len(path) > 1 and path[-1] == "/" else path


def _clean_path(path: str) -> str:
    """Resolve `.`, `..` and empty segments, never above the root; keeps a trailing slash."""
    if "/." not in path and "//" not in path:
        return path
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    cleaned = "/" + "/".join(kept)
    if cleaned != "/" and (path.endswith("/") or path.endswith("/.") or path.endswith("/..")):
        cleaned += "/"
    return cleaned


def _encode_url(url: str) -> str:
    """A redirect target as a valid Location: IDNA host, other non-ASCII %-encoded."""
    if url.isascii():
        return quote(url, safe=_SAFE_LITERAL)
    if _ABSOLUTE.match(url):
        parts = urlsplit(url)
        if not parts.netloc.isascii():
            url = parts._replace(netloc=parts.netloc.encode("idna").decode("ascii")).geturl()
    return quote(url, safe=_SAFE_LITERAL)


class _Redirect:
    __slots__ = ("append_query", "force", "line", "parts", "query", "rewrite", "static", "status")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.status: int = int(data.get("status", DEFAULT_STATUS))
        self.force: bool = bool(data.get("force", False))
        self.line: int = int(data.get("line", 0))
        self.rewrite = self.status in REWRITE_STATUSES
        source: str = data["from"]
        names = {s[1:] for s in source.split("/") if s.startswith(":")}
        if "*" in source:
            names.add("splat")
        # (parameter, required literal value or None, placeholder name or None)
        checks: list[tuple[str, str | None, str | None]] = []
        for key, value in (data.get("query") or {}).items():
            if value.startswith(":"):
                names.add(value[1:])
                checks.append((key, None, value[1:]))
            else:
                checks.append((key, unquote_plus(value), None))
        self.query: tuple[tuple[str, str | None, str | None], ...] = tuple(checks)

        target: str = data["to"]
        if self.rewrite:
            target = target.split("?", 1)[0].split("#", 1)[0]
        self.append_query = not self.rewrite and "?" not in target
        parts: list[str | tuple[str, str | None]] = []  # literals and (name, safe)
        position = 0
        for found in _TEMPLATE_NAME.finditer(target):
            if found.group(1) not in names:
                continue
            parts.append(target[position : found.start()])
            in_path = "?" not in target[: found.start()] and "#" not in target[: found.start()]
            safe = None if self.rewrite else (_SAFE_IN_PATH if in_path else _SAFE_IN_QUERY)
            parts.append((found.group(1), safe))
            position = found.end()
        parts.append(target[position:])
        if self.rewrite:
            parts = [unquote(p) if isinstance(p, str) else p for p in parts]
        else:
            parts = [_encode_url(p) if isinstance(p, str) else p for p in parts]
        self.parts = tuple(p for p in parts if p != "")
        only = parts[0] if len(parts) == 1 else None
        self.static: str | None = self._finish(only) if isinstance(only, str) else None

    def match_query(
        self, params: Mapping[str, str], groups: dict[str, str | None]
    ) -> dict[str, str | None] | None:
        """`groups` plus the query placeholders, or None when a parameter does not match."""
        groups = dict(groups)
        for name, required, placeholder in self.query:
            value = params.get(name)
            if value is None or (required is not None and value != required):
                return None
            if placeholder is not None:
                groups[placeholder] = value
        return groups

    def target(self, groups: Mapping[str, str | None]) -> str:
        if self.static is not None:
            return self.static
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                name, safe = part
                value = groups.get(name) or ""
                out.append(value if safe is None else quote(value, safe=safe))
        return self._finish("".join(out))

    def _finish(self, target: str) -> str:
        if self.rewrite:
            return _clean_path(target)
        if target.startswith(("//", "/\\")):  # a matched value must not make it off-site
            return "/" + target.lstrip("/\\")
        return target


class _HeaderBlock:
    __slots__ = ("combined", "values")

    def __init__(self, values: list[tuple[str, str]]) -> None:
        self.values = tuple(
            (name, name.lower(), value)
            for name, value in values
            if name.lower() not in REFUSED_HEADERS  # stored before they were refused
        )
        self.combined = _combine((self,))


def _combine(blocks: tuple[_HeaderBlock, ...] | list[_HeaderBlock]) -> tuple[tuple[str, str], ...]:
    """Headers of the blocks, in order; a repeated name is joined with ", " at its first
    place."""
    merged: list[list[str]] = []
    where: dict[str, int] = {}
    for block in blocks:
        for name, lower, value in block.values:
            index = where.get(lower)
            if index is None:
                where[lower] = len(merged)
                merged.append([name, value])
            elif value:
                entry = merged[index]
                entry[1] = f"{entry[1]}, {value}" if entry[1] else value
    return tuple((name, value) for name, value in merged)


def _literal_prefix(pattern: str) -> str:
    """The decoded text every path matching `pattern` starts with: a cheap test that
    spares most rules their regex."""
    cut = len(pattern)
    for marker in ("*", "/:"):
        found = pattern.find(marker)
        if found != -1:
            cut = min(cut, found)
    return unquote(pattern[:cut]).rstrip("/")


def _first_segment(path: str) -> str:
    """`blog` for `/blog`, `/blog/` and `/blog/a/b`; empty for `/`."""
    return path[1:].partition("/")[0]


class _Plan:
    """The rules one request has to look at, in file order: a run of exact patterns is one
    step `(None, None, {exact key: (payloads...)})`, any other pattern a step
    `(literal prefix, compiled.match, payload)`; the prefix spares most regex calls."""

    __slots__ = ("steps",)

    def __init__(self, entries: list[tuple[str | None, Any, Any]]) -> None:
        steps: list[tuple[Any, Any, Any]] = []
        table: dict[str, list[Any]] | None = None
        for key, pattern_step, payload in entries:
            if key is None:
                table = None
                steps.append(pattern_step)
                continue
            if table is None:
                table = {}
                steps.append((None, None, table))
            table.setdefault(key, []).append(payload)
        self.steps: tuple[tuple[Any, Any, Any], ...] = tuple(
            (None, None, {k: tuple(v) for k, v in step[2].items()}) if step[1] is None else step
            for step in steps
        )

    def matches(self, path: str, key: str) -> Iterator[tuple[Any, re.Match[str] | None]]:
        """(payload, regex match or None for an exact pattern) of every matching rule."""
        for prefix, matcher, step in self.steps:
            if matcher is None:
                payloads = step.get(key)
                if payloads is not None:
                    for payload in payloads:
                        yield payload, None
            elif path.startswith(prefix):
                found = matcher(path)
                if found is not None:
                    yield step, found


class _Index:
    """Plans by first path segment: a request only looks at the rules whose first segment
    is its own, and at those starting with `*` or `:name` (the only ones in `any`).
    Matching costs a dictionary lookup per run of exact rules and about a microsecond
    per pattern rule looked at."""

    __slots__ = ("any", "by_segment")

    def __init__(self, entries: list[tuple[str, Any]], *, capture: bool) -> None:
        # (first segment or None for any, (exact key or None, step, payload))
        keyed: list[tuple[str | None, tuple[str | None, Any, Any]]] = []
        for pattern, payload in entries:
            segment = unquote(_first_segment(pattern))
            # `/*`, `/:lang/...`, `/*.jpg`, `/news*` and a decoded `%2F` can match any first
            # segment
            dynamic = "/" in segment or "*" in segment or segment.startswith(":")
            first = None if dynamic else segment
            source = _pattern_source(pattern, capture=capture)
            if source is None:
                keyed.append((first, (_exact_key(unquote(pattern)), None, payload)))
            else:
                step = (_literal_prefix(pattern), re.compile(source, re.DOTALL).match, payload)
                keyed.append((first, (None, step, payload)))
        self.any = _Plan([entry for first, entry in keyed if first is None])
        self.by_segment = {
            segment: _Plan([entry for first, entry in keyed if first in (segment, None)])
            for segment in {first for first, _ in keyed if first is not None}
        }

    def plan_for(self, path: str) -> _Plan:
        return self.by_segment.get(_first_segment(path), self.any)

    def __bool__(self) -> bool:
        return bool(self.any.steps or self.by_segment)


class Rules:
    """A deployment's compiled `_redirects` and `_headers` rules; build once, share freely."""

    __slots__ = ("_headers", "_redirects")

    def __init__(self, redirects: _Index, headers: _Index) -> None:
        self._redirects = redirects if redirects else None
        self._headers = headers if headers else None

    @classmethod
    def from_json(
        cls,
        redirects: list[dict[str, Any]] | None = None,
        headers: list[dict[str, Any]] | None = None,
    ) -> Rules:
        """Compile what `parse_redirects` and `parse_headers` returned (or its JSON round
        trip). Rules with conditions are left out: they never match here."""
        redirect_entries = [
            (data["from"], _Redirect(data))
            for data in redirects or ()
            if not data.get("conditions")
        ]
        blocks = [
            (data["for"], _HeaderBlock([(name, value) for name, value in data["values"]]))
            for data in headers or ()
            if data.get("values")
        ]
        header_entries = [(pattern, block) for pattern, block in blocks if block.values]
        return cls(_Index(redirect_entries, capture=True), _Index(header_entries, capture=False))

    def match_redirect(
        self,
        path: str,
        query: Mapping[str, str] | str,
        file_exists: Callable[[str], bool],
    ) -> RedirectMatch | None:
        """The first rule matching the decoded `path` and `query` (a mapping of decoded
        parameters, or the raw query string), or None.

        A rule without `!` is shadowed, i.e. skipped, when `file_exists(path)` is true;
        `file_exists` is called at most once, and only when such a rule matches.
        """
        if self._redirects is None:
            return None
        key = _exact_key(path)
        params: Mapping[str, str] | None = None
        exists: bool | None = None
        for rule, found in self._redirects.plan_for(path).matches(path, key):
            groups = _NO_GROUPS if found is None else found.groupdict()
            if rule.query:
                if params is None:
                    params = _query_params(query)
                groups = rule.match_query(params, groups)
                if groups is None:
                    continue
            if not rule.force:
                if exists is None:
                    exists = bool(file_exists(path))
                if exists:
                    continue
            target = rule.target(groups)
            if rule.append_query:
                target = _with_query(target, query)
            return RedirectMatch(rule.status, target, rule.rewrite, rule.force, rule.line)
        return None

    def headers_for(self, path: str) -> tuple[tuple[str, str], ...]:
        """The `_headers` headers for the decoded request `path`: every matching block in
        file order, a repeated name joined with ", ". Returns a shared, immutable tuple."""
        if self._headers is None:
            return _EMPTY_HEADERS
        key = _exact_key(path)
        matched = [block for block, _ in self._headers.plan_for(path).matches(path, key)]
        if not matched:
            return _EMPTY_HEADERS
        if len(matched) == 1:
            return matched[0].combined
        return _combine(matched)


def _query_params(query: Mapping[str, str] | str) -> Mapping[str, str]:
    """Decoded parameters; for a raw string, the first value of each name."""
    if not isinstance(query, str):
        return query
    params: dict[str, str] = {}
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        params.setdefault(name, value)
    return params


def _with_query(target: str, query: Mapping[str, str] | str) -> str:
    raw = query.lstrip("?") if isinstance(query, str) else urlencode(query)
    if not raw:
        return target
    fragment = ""
    if "#" in target:
        target, hash_, fragment = target.partition("#")
        fragment = hash_ + fragment
    return f"{target}?{raw}{fragment}"
