"""Finding -> validated patch -> one GitHub pull request per finding.

:func:`advise` is the entry point; patches come from a model (``ANTHROPIC_API_KEY``) or from the
deterministic codemods, and pass :func:`~tsdev.advisor.patch.validate` before anything is published.
"""

from tsdev.advisor.locate import CodeHint
from tsdev.advisor.service import AdviceError, AdviceResult, advise
from tsdev.advisor.settings import AdvisorSettings

__all__ = ["AdviceError", "AdviceResult", "AdvisorSettings", "CodeHint", "advise"]
