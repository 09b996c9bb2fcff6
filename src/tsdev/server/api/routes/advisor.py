"""``POST /api/v1/findings/{id}/advise``: turn a stored finding into a patch and a pull request.

The server's own ``TSDEV_GITHUB_TOKEN`` and ``ANTHROPIC_API_KEY`` are used; the request only names
the repository. A sync route, so FastAPI runs the (blocking, network-bound) advice in its thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.advisor import AdviseRequest, AdviseResult
from tsdev.server.api.schemas.common import ERROR_RESPONSES

router = APIRouter(tags=["advisor"], responses=ERROR_RESPONSES)


@router.post("/findings/{finding_id}/advise", summary="Propose the fix of a finding as a pull request")
def advise_finding(store: StoreDep, finding_id: str, request: AdviseRequest) -> AdviseResult:
    from tsdev.advisor import AdviceError, AdvisorSettings, advise
    from tsdev.advisor.records import finding_of, record
    from tsdev.analysis.jobs import repository

    stored = repository.get(store, finding_id)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"finding {finding_id} not found")
    finding = finding_of(stored)
    try:
        result = advise(
            finding,
            repo=request.repo,
            settings=AdvisorSettings.from_env(),
            dry_run=request.dry_run,
            regressed=request.regressed,
        )
    except AdviceError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
    record(store, request.repo, finding, result)
    return AdviseResult.model_validate(result.to_dict(), from_attributes=False)
