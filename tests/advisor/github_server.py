"""A local GitHub REST server backed by a real git repository, for PyGithub.

Implements what the advisor calls: repository, branches, contents, git blobs/trees/commits/refs,
pulls (with ``head`` filtering, drafts, merge state), labels and issue comments. Blobs, trees,
commits and refs are made with git itself, so a branch the advisor pushes can be checked out and
its tests run. Every ``url`` uses the server's own host and port, as PyGithub checks. Served under
``/api/v3`` like GitHub Enterprise, which also exercises the configurable base URL.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

PREFIX = "/api/v3"
BOT_ENV = {
    "GIT_AUTHOR_NAME": "tsdev-advisor",
    "GIT_AUTHOR_EMAIL": "advisor@tsdev.invalid",
    "GIT_COMMITTER_NAME": "tsdev-advisor",
    "GIT_COMMITTER_EMAIL": "advisor@tsdev.invalid",
}


def git(repo: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=input,
        capture_output=True,
        check=True,
        env={**os.environ, **BOT_ENV, **(env or {})},
    )
    return done.stdout.decode().strip()


class FakeGitHub:
    def __init__(self, repo_dir: Path, owner: str = "acme", name: str = "shop", drafts: bool = True) -> None:
        self.repo_dir = repo_dir
        self.owner, self.name = owner, name
        self.drafts_supported = drafts
        self.pulls: list[dict[str, Any]] = []
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    @property
    def repo_url(self) -> str:
        return f"{self.base}/repos/{self.owner}/{self.name}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- test helpers: what a person would do on github.com ----------------------------------------
    def close_pull(self, number: int, merged: bool = False) -> None:
        pull = self.pulls[number - 1]
        pull["state"], pull["merged"] = "closed", merged
        if merged:
            git(self.repo_dir, "update-ref", "refs/heads/main", self.ref_sha(pull["head"]))

    def human_commit(self, branch: str, path: str, text: str) -> str:
        """A commit by a person on ``branch`` changing ``path``."""
        parent = self.ref_sha(branch)
        tree = self._tree_with(parent, {path: text})
        sha = git(
            self.repo_dir,
            "commit-tree",
            tree,
            "-p",
            parent,
            "-m",
            "Tweak by hand",
            env={"GIT_AUTHOR_NAME": "Alice", "GIT_COMMITTER_NAME": "Alice"},
        )
        git(self.repo_dir, "update-ref", f"refs/heads/{branch}", sha)
        return sha

    def ref_sha(self, branch: str) -> str:
        return git(self.repo_dir, "rev-parse", f"refs/heads/{branch}")

    # -- git -----------------------------------------------------------------------------------
    def _tree_with(self, commit: str, files: dict[str, str]) -> str:
        index = self.repo_dir / ".git" / f"tmp-index-{threading.get_ident()}"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            git(self.repo_dir, "read-tree", commit, env=env)
            for path, text in files.items():
                blob = git(self.repo_dir, "hash-object", "-w", "--stdin", input=text.encode())
                git(self.repo_dir, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            return git(self.repo_dir, "write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)

    def commit_json(self, sha: str) -> dict[str, Any]:
        raw = git(self.repo_dir, "cat-file", "commit", sha)
        header, _, message = raw.partition("\n\n")
        tree = re.search(r"^tree (\w+)", header, re.M)
        parents = re.findall(r"^parent (\w+)", header, re.M)
        person = {"name": "tsdev-advisor", "email": "advisor@tsdev.invalid", "date": "2026-01-01T00:00:00Z"}
        return {
            "sha": sha,
            "url": f"{self.repo_url}/git/commits/{sha}",
            "html_url": f"http://127.0.0.1:{self.port}/{self.owner}/{self.name}/commit/{sha}",
            "message": message.rstrip("\n") + "\n" if message else "",
            "tree": {
                "sha": tree.group(1) if tree else "",
                "url": f"{self.repo_url}/git/trees/{tree.group(1) if tree else ''}",
            },
            "parents": [{"sha": p, "url": f"{self.repo_url}/git/commits/{p}"} for p in parents],
            "author": person,
            "committer": person,
        }

    def repo_json(self) -> dict[str, Any]:
        return {
            "id": 1,
            "name": self.name,
            "full_name": f"{self.owner}/{self.name}",
            "owner": {
                "login": self.owner,
                "id": 1,
                "type": "Organization",
                "url": f"{self.base}/users/{self.owner}",
            },
            "default_branch": "main",
            "url": self.repo_url,
            "html_url": f"http://127.0.0.1:{self.port}/{self.owner}/{self.name}",
            "private": False,
        }

    def pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        number = pull["number"]
        try:
            head_sha = self.ref_sha(pull["head"])
        except subprocess.CalledProcessError:
            head_sha = pull.get("head_sha", "")
        return {
            "id": number,
            "number": number,
            "url": f"{self.repo_url}/pulls/{number}",
            "html_url": f"http://127.0.0.1:{self.port}/{self.owner}/{self.name}/pull/{number}",
            "issue_url": f"{self.repo_url}/issues/{number}",
            "state": pull["state"],
            "merged": pull["merged"],
            "draft": pull["draft"],
            "title": pull["title"],
            "body": pull["body"],
            "created_at": pull["created_at"],
            "updated_at": pull["created_at"],
            "labels": [{"name": n, "url": f"{self.repo_url}/labels/{n}"} for n in pull["labels"]],
            "head": {
                "ref": pull["head"],
                "sha": head_sha,
                "label": f"{self.owner}:{pull['head']}",
                "repo": self.repo_json(),
            },
            "base": {
                "ref": pull["base"],
                "sha": self.ref_sha(pull["base"]),
                "label": f"{self.owner}:{pull['base']}",
                "repo": self.repo_json(),
            },
        }


def _handler(hub: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _route(self, method: str) -> None:
            parsed = urlparse(self.path)
            path = parsed.path
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            with hub.lock:
                hub.requests.append((method, path))
                if not self.headers.get("Authorization", "").startswith(("token ", "Bearer ")):
                    return self._send(401, {"message": "Bad credentials"})
                repo = f"{PREFIX}/repos/{hub.owner}/{hub.name}"
                if not path.startswith(repo):
                    return self._send(404, {"message": "Not Found"})
                rest = unquote(path[len(repo) :])
                try:
                    status, body = _dispatch(
                        hub, method, rest, query, self._body() if method in ("POST", "PATCH") else {}
                    )
                except subprocess.CalledProcessError:
                    status, body = 404, {"message": "Not Found"}
            self._send(status, body)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


def _dispatch(hub: FakeGitHub, method: str, rest: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    g = hub.repo_dir
    if rest == "" and method == "GET":
        return 200, hub.repo_json()
    if m := re.fullmatch(r"/branches/(.+)", rest):
        sha = hub.ref_sha(m.group(1))
        return 200, {
            "name": m.group(1),
            "commit": {"sha": sha, "url": f"{hub.repo_url}/commits/{sha}"},
            "protected": False,
        }
    if m := re.fullmatch(r"/contents/(.+)", rest):
        ref = query.get("ref", "main")
        try:
            text = subprocess.run(
                ["git", "show", f"{ref}:{m.group(1)}"], cwd=g, capture_output=True, check=True
            ).stdout
        except subprocess.CalledProcessError:
            return 404, {"message": "Not Found"}
        sha = git(g, "rev-parse", f"{ref}:{m.group(1)}")
        return 200, {
            "type": "file",
            "encoding": "base64",
            "content": base64.b64encode(text).decode(),
            "sha": sha,
            "path": m.group(1),
            "name": m.group(1).rsplit("/", 1)[-1],
            "size": len(text),
            "url": f"{hub.repo_url}/contents/{m.group(1)}",
        }
    if rest == "/git/blobs" and method == "POST":
        data = (
            base64.b64decode(body["content"])
            if body.get("encoding") == "base64"
            else body["content"].encode()
        )
        sha = git(g, "hash-object", "-w", "--stdin", input=data)
        return 201, {"sha": sha, "url": f"{hub.repo_url}/git/blobs/{sha}"}
    if rest == "/git/trees" and method == "POST":
        return 201, _tree_json(hub, _make_tree(hub, body), recursive=False)
    if m := re.fullmatch(r"/git/trees/(\w+)", rest):
        return 200, _tree_json(hub, m.group(1), recursive=query.get("recursive") in ("1", "true"))
    if rest == "/git/commits" and method == "POST":
        args = ["commit-tree", body["tree"], "-m", body["message"]]
        for parent in body.get("parents", []):
            args += ["-p", parent]
        return 201, hub.commit_json(git(g, *args))
    if m := re.fullmatch(r"/git/commits/(\w+)", rest):
        return 200, hub.commit_json(m.group(1))
    if rest == "/git/refs" and method == "POST":
        ref = body["ref"]
        if (
            subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=g, capture_output=True).returncode
            == 0
        ):
            return 422, {"message": "Reference already exists"}
        git(g, "update-ref", ref, body["sha"])
        return 201, _ref_json(hub, ref)
    if m := re.fullmatch(r"/git/(?:ref|refs)/(heads/.+)", rest):
        ref = f"refs/{m.group(1)}"
        if method == "PATCH":
            old = git(g, "rev-parse", ref)
            ancestor = (
                subprocess.run(["git", "merge-base", "--is-ancestor", old, body["sha"]], cwd=g).returncode
                == 0
            )
            if not ancestor and not body.get("force"):
                return 422, {"message": "Update is not a fast forward"}
            git(g, "update-ref", ref, body["sha"])
        return 200, _ref_json(hub, ref)
    if rest == "/pulls" and method == "GET":
        return 200, _list_pulls(hub, query)
    if rest == "/pulls" and method == "POST":
        if body.get("draft") and not hub.drafts_supported:
            return 422, {"message": "Draft pull requests are not supported in this repository."}
        if any(p["head"] == body["head"] and p["state"] == "open" for p in hub.pulls):
            return 422, {"message": "A pull request already exists"}
        hub.ref_sha(body["head"])
        pull = {
            "number": len(hub.pulls) + 1,
            "state": "open",
            "merged": False,
            "draft": bool(body.get("draft")),
            "title": body["title"],
            "body": body.get("body", ""),
            "head": body["head"],
            "base": body["base"],
            "labels": [],
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        hub.pulls.append(pull)
        return 201, hub.pull_json(pull)
    if m := re.fullmatch(r"/pulls/(\d+)", rest):
        pull = hub.pulls[int(m.group(1)) - 1]
        if method == "PATCH":
            pull.update({k: body[k] for k in ("title", "body", "state") if k in body})
        return 200, hub.pull_json(pull)
    if m := re.fullmatch(r"/issues/(\d+)/labels", rest):
        pull = hub.pulls[int(m.group(1)) - 1]
        pull["labels"] = list(
            dict.fromkeys([*pull["labels"], *(body.get("labels", body) if isinstance(body, dict) else body)])
        )
        return 200, [{"name": n, "url": f"{hub.repo_url}/labels/{n}"} for n in pull["labels"]]
    if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
        comments = hub.comments.setdefault(int(m.group(1)), [])
        if method == "POST":
            comment = {
                "id": len(comments) + 1,
                "body": body["body"],
                "url": f"{hub.repo_url}/issues/comments/{len(comments) + 1}",
            }
            comments.append(comment)
            return 201, comment
        return 200, comments
    return 404, {"message": f"Not Found: {method} {rest}"}


def _make_tree(hub: FakeGitHub, body: dict[str, Any]) -> str:
    index = hub.repo_dir / ".git" / f"tmp-index-{threading.get_ident()}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        if body.get("base_tree"):
            git(hub.repo_dir, "read-tree", body["base_tree"], env=env)
        else:
            git(hub.repo_dir, "read-tree", "--empty", env=env)
        for entry in body["tree"]:
            git(
                hub.repo_dir,
                "update-index",
                "--add",
                "--cacheinfo",
                f"{entry['mode']},{entry['sha']},{entry['path']}",
                env=env,
            )
        return git(hub.repo_dir, "write-tree", env=env)
    finally:
        index.unlink(missing_ok=True)


def _tree_json(hub: FakeGitHub, sha: str, recursive: bool) -> dict[str, Any]:
    args = ["ls-tree", "-l", *(["-r"] if recursive else []), sha]
    entries = []
    for line in git(hub.repo_dir, *args).splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, obj, size = meta.split()
        entry: dict[str, Any] = {
            "path": path,
            "mode": mode,
            "type": kind,
            "sha": obj,
            "url": f"{hub.repo_url}/git/{kind}s/{obj}",
        }
        if kind == "blob":
            entry["size"] = int(size)
        entries.append(entry)
    return {"sha": sha, "url": f"{hub.repo_url}/git/trees/{sha}", "tree": entries, "truncated": False}


def _ref_json(hub: FakeGitHub, ref: str) -> dict[str, Any]:
    sha = git(hub.repo_dir, "rev-parse", ref)
    return {
        "ref": ref,
        "url": f"{hub.repo_url}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{hub.repo_url}/git/commits/{sha}"},
    }


def _list_pulls(hub: FakeGitHub, query: dict[str, str]) -> list[dict[str, Any]]:
    state = query.get("state", "open")
    head = query.get("head")
    pulls = []
    for pull in hub.pulls:
        if state != "all" and pull["state"] != state:
            continue
        if head and head != f"{hub.owner}:{pull['head']}":
            continue
        pulls.append(hub.pull_json(pull))
    return pulls


def init_repo(directory: Path, files: dict[str, str]) -> Path:
    """A git repository with ``files`` committed on ``main``."""
    directory.mkdir(parents=True, exist_ok=True)
    git(directory, "init", "-q", "-b", "main")
    for path, text in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "Initial commit")
    return directory
