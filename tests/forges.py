"""A forge on loopback, for tests of push to deploy: a real repository served over smart
HTTP (`git http-backend`, tests/gitserver.py), real commits pushed to it, and the push
events GitHub, Gitea and GitLab would send for them, shaped and signed as their
documentation says.

GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#push and
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries;
Gitea: https://docs.gitea.com/usage/webhooks; GitLab:
https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.gitserver import git_http

ZERO = "0" * 40


@dataclass
class Pushed:
    """One push: the ref, the commits before and after, and the commits it added."""

    ref: str
    before: str
    after: str
    commits: list[dict[str, Any]] = field(default_factory=list)


class Forge:
    """A bare repository `octo/app.git` under `root`, a work tree to commit in, and the
    address git fetches it from (set while `serving()`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bare = root / "octo" / "app.git"
        self.work = root / "work"
        self.url = ""
        self.bare.parent.mkdir(parents=True)
        self.work.mkdir()
        self.git("init", "-q", "--bare", str(self.bare), cwd=root)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Octo Cat",
            "GIT_AUTHOR_EMAIL": "octo@example.com",
            "GIT_COMMITTER_NAME": "Octo Cat",
            "GIT_COMMITTER_EMAIL": "octo@example.com",
        }
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=env, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    @contextmanager
    def serving(self) -> Iterator[Forge]:
        with git_http(self.root) as server:
            self.url = f"http://127.0.0.1:{server.server_address[1]}/octo/app.git"
            yield self

    def head(self, branch: str) -> str:
        try:
            return self.git("rev-parse", f"refs/heads/{branch}", cwd=self.bare)
        except subprocess.CalledProcessError:
            return ZERO

    def commit(
        self, branch: str, files: dict[str, str], message: str, remove: tuple[str, ...] = ()
    ) -> str:
        """Commit `files` (and remove `remove`) on `branch` of the work tree; the hash."""
        current = self.git("branch", "--show-current")
        if current != branch:
            known = self.git("branch", "--list", branch)
            self.git("checkout", "-q", *([] if known else ["-b"]), branch)
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        for name in remove:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, branch: str, files: dict[str, str], message: str) -> Pushed:
        """Commit on `branch` and push it: what the forge's push event reports."""
        before = self.head(branch)
        after = self.commit(branch, files, message)
        self.git("push", "-q", str(self.bare), f"{branch}:refs/heads/{branch}")
        return Pushed(f"refs/heads/{branch}", before, after, self._commits(before, after))

    def push_tag(self, tag: str) -> Pushed:
        self.git("tag", tag)
        self.git("push", "-q", str(self.bare), f"refs/tags/{tag}")
        after = self.git("rev-parse", "HEAD")
        return Pushed(f"refs/tags/{tag}", ZERO, after, [])

    def delete_branch(self, branch: str) -> Pushed:
        before = self.head(branch)
        self.git("push", "-q", str(self.bare), f":refs/heads/{branch}")
        return Pushed(f"refs/heads/{branch}", before, ZERO, [])

    def _commits(self, before: str, after: str) -> list[dict[str, Any]]:
        span = after if before == ZERO else f"{before}..{after}"
        commits = []
        for sha in reversed(self.git("rev-list", span).split()):
            added, modified, removed = [], [], []
            changes = self.git("diff-tree", "--no-commit-id", "--name-status", "-r", "--root", sha)
            for line in changes.splitlines():
                status, _, path = line.partition("\t")
                {"A": added, "D": removed}.get(status[:1], modified).append(path)
            commits.append(
                {
                    "id": sha,
                    "message": self.git("log", "-1", "--format=%B", sha) + "\n",
                    "timestamp": self.git("log", "-1", "--format=%cI", sha),
                    "added": added,
                    "removed": removed,
                    "modified": modified,
                }
            )
        return commits


# -- the events -----------------------------------------------------------------------


def _person() -> dict[str, str]:
    return {"name": "Octo Cat", "email": "octo@example.com", "username": "octocat"}


def _github_commit(commit: dict[str, Any], web: str) -> dict[str, Any]:
    return {
        "id": commit["id"],
        "tree_id": hashlib.sha256(commit["id"].encode()).hexdigest()[:40],
        "distinct": True,
        "message": commit["message"],
        "timestamp": commit["timestamp"],
        "url": f"{web}/commit/{commit['id']}",
        "author": _person(),
        "committer": _person(),
        "added": commit["added"],
        "removed": commit["removed"],
        "modified": commit["modified"],
    }


def github_push(pushed: Pushed, clone_url: str) -> dict[str, Any]:
    """GitHub's `push` event."""
    web = "https://github.com/octo/app"
    commits = [_github_commit(c, web) for c in pushed.commits]
    return {
        "ref": pushed.ref,
        "before": pushed.before,
        "after": pushed.after,
        "repository": {
            "id": 1296269,
            "name": "app",
            "full_name": "octo/app",
            "private": False,
            "html_url": web,
            "clone_url": clone_url,
            "default_branch": "main",
        },
        "pusher": {"name": "octocat", "email": "octo@example.com"},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
        "created": pushed.before == ZERO,
        "deleted": pushed.after == ZERO,
        "forced": False,
        "base_ref": None,
        "compare": f"{web}/compare/{pushed.before[:12]}...{pushed.after[:12]}",
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
    }


def gitea_push(pushed: Pushed, clone_url: str) -> dict[str, Any]:
    """Gitea's (and Forgejo's) `push` event: GitHub's shape, with total_commits."""
    web = "https://gitea.example/octo/app"
    commits = [
        {k: v for k, v in _github_commit(c, web).items() if k not in ("tree_id", "distinct")}
        | {"verification": None}
        for c in pushed.commits
    ]
    return {
        "ref": pushed.ref,
        "before": pushed.before,
        "after": pushed.after,
        "compare_url": f"{web}/compare/{pushed.before}...{pushed.after}",
        "commits": commits,
        "total_commits": len(commits),
        "head_commit": commits[-1] if commits else None,
        "repository": {
            "id": 1,
            "name": "app",
            "full_name": "octo/app",
            "clone_url": clone_url,
            "html_url": web,
            "default_branch": "main",
        },
        "pusher": {"id": 1, "login": "octocat", "username": "octocat"},
        "sender": {"id": 1, "login": "octocat", "username": "octocat"},
    }


def gitlab_push(pushed: Pushed, clone_url: str) -> dict[str, Any]:
    """GitLab's `Push Hook` (or `Tag Push Hook`) event; at most 20 commits are listed."""
    web = "https://gitlab.example/octo/app"
    commits = [
        {
            "id": c["id"],
            "message": c["message"],
            "title": c["message"].splitlines()[0],
            "timestamp": c["timestamp"],
            "url": f"{web}/-/commit/{c['id']}",
            "author": {"name": "Octo Cat", "email": "octo@example.com"},
            "added": c["added"],
            "modified": c["modified"],
            "removed": c["removed"],
        }
        for c in pushed.commits
    ]
    tag = pushed.ref.startswith("refs/tags/")
    return {
        "object_kind": "tag_push" if tag else "push",
        "event_name": "tag_push" if tag else "push",
        "before": pushed.before,
        "after": pushed.after,
        "ref": pushed.ref,
        "ref_protected": True,
        "checkout_sha": None if pushed.after == ZERO else pushed.after,
        "message": None,
        "user_id": 4,
        "user_name": "Octo Cat",
        "user_username": "octocat",
        "user_email": "",
        "project_id": 15,
        "project": {
            "id": 15,
            "name": "app",
            "path_with_namespace": "octo/app",
            "default_branch": "main",
            "git_http_url": clone_url,
            "web_url": web,
        },
        "commits": commits[-20:],
        "total_commits_count": len(commits),
        "push_options": {},
        "repository": {"name": "app", "url": clone_url, "homepage": web},
    }


def github_signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256, as GitHub computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(
    provider: str, secret: str, payload: dict[str, Any], event: str = "push"
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a delivery of `payload` as `provider` sends it, signed."""
    body = json.dumps(payload).encode()
    delivery_id = str(uuid.uuid4())
    if provider == "github":
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-GitHub-Hook-ID": "292430182",
            "X-Hub-Signature-256": github_signature(secret, body),
            "User-Agent": "GitHub-Hookshot/044aadd",
        }
    elif provider == "gitea":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-Gitea-Event": event,
            "X-Gitea-Event-Type": event,
            "X-Gitea-Delivery": delivery_id,
            "X-Gitea-Signature": digest,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": f"sha256={digest}",
            "User-Agent": "Go-http-client/1.1",
        }
    else:
        headers = {
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": secret,
            "X-Gitlab-Event-UUID": delivery_id,
            "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
            "X-Gitlab-Instance": "https://gitlab.example",
            "Idempotency-Key": delivery_id,
            "User-Agent": "GitLab/17.6.0",
        }
    return body, {"Content-Type": "application/json", **headers}


PUSH_EVENT = {"github": "push", "gitea": "push", "gitlab": "Push Hook"}
PAYLOAD = {"github": github_push, "gitea": gitea_push, "gitlab": gitlab_push}
