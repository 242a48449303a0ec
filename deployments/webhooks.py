"""Push events from the forges: check a delivery's signature, then read what it says.

Each provider's documented event becomes one `Received`: GitHub's `push` (signed with
`X-Hub-Signature-256`, an HMAC-SHA256 of the exact body), Gitea's and Forgejo's (the
same shape, signed with that header or their own `X-Gitea-Signature` /
`X-Forgejo-Signature`: the bare hex digest), and GitLab's `Push Hook` and `Tag Push Hook`
(which send the secret itself in `X-Gitlab-Token`). Signatures are compared in constant
time, before a byte of the body is parsed. Nothing here writes: deployments.git_services
acts on what this returns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from core.errors import Invalid
from deployments import vcs

BRANCH, TAG = "branch", "tag"
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_ZERO_SHA = re.compile(r"^0+$")
MAX_CHANGED_PATHS = 10_000  # past this many, which paths changed counts as unknown
# GitHub lists at most this many commits in a push (GitLab: 20, with a total beside).
_GITHUB_MAX_COMMITS = 2048
_MESSAGE_LIMIT = 2000  # characters of a commit message kept (as git sources keep)


class Unsigned(Exception):
    """The delivery's signature is missing or wrong: nothing in it may be trusted."""


@dataclass(frozen=True)
class Push:
    """What a push did, whichever forge sent it."""

    ref_type: str  # BRANCH or TAG
    name: str  # the branch's or the tag's name
    after: str  # the commit the ref points at now ("" when it was deleted)
    message: str  # that commit's message
    # Every path the pushed commits added, changed or removed; None when the event does
    # not say all of them (too many commits, a new branch, a forced push).
    changed: frozenset[str] | None

    @property
    def deleted(self) -> bool:
        return not self.after


@dataclass(frozen=True)
class Received:
    """A delivery: its event's name, the forge's id of it, and the push it reports
    (None for anything else: a ping, another event)."""

    event: str
    delivery_id: str
    push: Push | None = None
    deleted_branch: str = ""  # Gitea's and GitHub's separate `delete` event


def verify(provider: str, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise Unsigned unless the delivery was signed with `secret` as `provider` signs."""
    if provider == "gitlab":
        given = headers.get("X-Gitlab-Token", "")
        if not given or not hmac.compare_digest(given.encode(), secret.encode()):
            raise Unsigned
        return
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if "X-Hub-Signature-256" in headers:
        expected, given = f"sha256={digest}", headers["X-Hub-Signature-256"]
    elif provider == "gitea":
        given = headers.get("X-Gitea-Signature") or headers.get("X-Forgejo-Signature") or ""
        expected = digest
    else:
        raise Unsigned
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        raise Unsigned


def read(provider: str, headers: Mapping[str, str], body: bytes) -> Received:
    """The delivery as a Received; a body that is not the event it says raises Invalid."""
    if provider == "gitlab":
        return _gitlab(headers, body)
    return _github_shaped(provider, headers, body)


def _delivery_id(headers: Mapping[str, str], names: tuple[str, ...], body: bytes) -> str:
    """The forge's id of the delivery; without one, the body's hash (so that the same
    body sent twice is still one delivery)."""
    for name in names:
        value = headers.get(name, "").strip()
        if value:
            if len(value) > 128 or not value.isprintable():
                raise Invalid({name: "The delivery id is longer than 128 characters or not text."})
            return value
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _github_shaped(provider: str, headers: Mapping[str, str], body: bytes) -> Received:
    ids: tuple[str, ...]
    if provider == "gitea":
        event = (
            headers.get("X-Gitea-Event")
            or headers.get("X-Forgejo-Event")
            or headers.get("X-GitHub-Event", "")
        )
        ids = ("X-Gitea-Delivery", "X-Forgejo-Delivery", "X-GitHub-Delivery")
    else:
        event, ids = headers.get("X-GitHub-Event", ""), ("X-GitHub-Delivery",)
    event = event.strip().lower()
    if not event:
        raise Invalid({"X-GitHub-Event": "The delivery does not say which event it is."})
    delivery_id = _delivery_id(headers, ids, body)
    if event not in ("push", "delete"):
        return Received(event, delivery_id)
    payload = _payload(headers, body)
    if event == "delete":
        if payload.get("ref_type") != "branch":
            return Received(event, delivery_id)
        return Received(event, delivery_id, deleted_branch=_name(_text(payload, "ref"), BRANCH))
    ref_type, name = _ref(_text(payload, "ref"))
    after = _sha(_text(payload, "after"))
    head = payload.get("head_commit") if isinstance(payload.get("head_commit"), dict) else {}
    commits = _list(payload, "commits")
    total = payload.get("total_commits", len(commits))  # Gitea's; GitHub sends none
    if not isinstance(total, int):
        raise Invalid({"total_commits": "'total_commits' is not a number."})
    complete = (
        not payload.get("created")
        and not payload.get("forced")
        and bool(commits)
        and len(commits) < _GITHUB_MAX_COMMITS
        and total <= len(commits)
    )
    push = Push(
        ref_type=ref_type,
        name=name,
        after=after,
        message=_message(head.get("message") if head else _last_message(commits)),
        changed=_changed(commits) if complete else None,
    )
    return Received(event, delivery_id, push)


def _gitlab(headers: Mapping[str, str], body: bytes) -> Received:
    event = headers.get("X-Gitlab-Event", "").strip()
    if not event:
        raise Invalid({"X-Gitlab-Event": "The delivery does not say which event it is."})
    delivery_id = _delivery_id(headers, ("Idempotency-Key", "X-Gitlab-Event-UUID"), body)
    if event not in ("Push Hook", "Tag Push Hook"):
        return Received(event, delivery_id)
    payload = _payload(headers, body)
    ref_type, name = _ref(_text(payload, "ref"))
    after = _sha(_text(payload, "after"))
    commits = _list(payload, "commits")
    total = payload.get("total_commits_count")
    complete = (
        bool(commits)
        and isinstance(total, int)
        and total <= len(commits)
        and not _ZERO_SHA.match(_text(payload, "before") or "0")
    )
    push = Push(
        ref_type=ref_type,
        name=name,
        after=after,
        message=_message(payload.get("message") or _last_message(commits)),
        changed=_changed(commits) if complete else None,
    )
    return Received(event, delivery_id, push)


# -- reading the payload --------------------------------------------------------------


def _payload(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The event's JSON: the body, or (GitHub's form content type) its `payload` field."""
    text = body
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8", "replace"))
        text = fields.get("payload", [""])[0].encode()
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("The body is not the JSON of a push event.") from None
    if not isinstance(payload, dict):
        raise Invalid("The body is not the JSON of a push event.")
    return payload


def _text(payload: dict[str, Any], field: str) -> str:
    value = payload.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid({field: f"'{field}' is not text."})
    return value


def _list(payload: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = payload.get(field) or []
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise Invalid({field: f"'{field}' is not a list of commits."})
    return value


def _ref(ref: str) -> tuple[str, str]:
    for prefix, ref_type in (("refs/heads/", BRANCH), ("refs/tags/", TAG)):
        if ref.startswith(prefix):
            return ref_type, _name(ref[len(prefix) :], ref_type)
    raise Invalid({"ref": "The push names no branch (refs/heads/...) or tag (refs/tags/...)."})


def _name(name: str, ref_type: str) -> str:
    try:
        vcs.check_reference(name, ref_type)
    except vcs.RepositoryRejected as exc:
        raise Invalid({"ref": str(exc)}) from None
    return name


def _sha(value: str) -> str:
    """The commit a ref points at now: "" for a deleted ref (all zeros)."""
    if _ZERO_SHA.match(value):
        return ""
    if not _SHA.match(value):
        raise Invalid({"after": "'after' is not a commit's hash."})
    return value


def _message(value: object) -> str:
    return value[:_MESSAGE_LIMIT].strip() if isinstance(value, str) else ""


def _last_message(commits: list[dict[str, Any]]) -> object:
    return commits[-1].get("message") if commits else ""


def _changed(commits: list[dict[str, Any]]) -> frozenset[str] | None:
    paths: set[str] = set()
    for commit in commits:
        for field in ("added", "modified", "removed"):
            listed = commit.get(field) or []
            if not isinstance(listed, list):
                return None
            paths.update(p for p in listed if isinstance(p, str))
        if len(paths) > MAX_CHANGED_PATHS:
            return None
    return frozenset(paths)


def touches(changed: frozenset[str], watched: list[str]) -> bool:
    """Whether any changed path is, or is under, one of the watched paths."""
    return any(
        path == prefix or path.startswith(prefix.rstrip("/") + "/")
        for path in changed
        for prefix in watched
    )
