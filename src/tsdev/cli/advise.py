"""``tsdev advise FINDING_ID --repo owner/name``: the fix of a finding as a pull request.

Runs the advisor on this machine (so ``--repo-path`` and ``--verify-cmd`` use the local checkout and
the tokens come from this shell), after reading the finding from the server's API; ``--finding-file``
reads a finding's JSON instead, which needs no server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tsdev.cli.client import ApiClient, ServerOption
from tsdev.cli.output import EXIT_FAILURE, EXIT_USAGE, abort, data, info


def advise(
    finding_id: Annotated[str, typer.Argument(help="Fingerprint of the finding (tsdev findings lists them)")],
    repo: Annotated[str | None, typer.Option("--repo", help="GitHub repository owner/name")] = None,
    repo_path: Annotated[
        Path | None, typer.Option("--repo-path", help="Read the code from this checkout")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Write patch.diff, body.md and edits.json locally; nothing to GitHub"),
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Directory of the dry-run files")] = None,
    verify_cmd: Annotated[
        str | None, typer.Option("--verify-cmd", help="Test command run on a patched copy of --repo-path")
    ] = None,
    regressed: Annotated[
        bool, typer.Option("--regressed", help="Propose again although a PR for it was closed unmerged")
    ] = False,
    finding_file: Annotated[
        Path | None,
        typer.Option("--finding-file", help="Read the finding from this JSON file, not the server"),
    ] = None,
    server: ServerOption = "http://127.0.0.1:8080",
) -> None:
    """Propose the fix of a finding as one pull request [env: TSDEV_GITHUB_TOKEN, TSDEV_GITHUB_API_URL,
    ANTHROPIC_API_KEY]."""
    from tsdev.advisor import AdviceError, AdvisorSettings
    from tsdev.advisor import advise as run
    from tsdev.analysis.findings import Finding

    if finding_file is not None:
        finding = Finding.model_validate_json(finding_file.read_text())
    else:
        with ApiClient(server) as client:
            raw = client.get(f"/api/v1/findings/{finding_id}")
        fields = set(Finding.model_fields)
        finding = Finding.model_validate({k: v for k, v in raw.items() if k in fields})
    try:
        result = run(
            finding,
            repo=repo,
            repo_path=repo_path,
            settings=AdvisorSettings.from_env(),
            dry_run=dry_run,
            out_dir=out,
            verify_cmd=verify_cmd,
            regressed=regressed,
        )
    except AdviceError as exc:
        abort(str(exc), EXIT_USAGE)
    for attempt in result.attempts:
        info(f"tried: {attempt}")
    summary = {k: v for k, v in result.to_dict().items() if k not in ("diff", "body")}
    data(json.dumps(summary, indent=1))
    if result.status == "failed":
        abort(result.reason, EXIT_FAILURE)
