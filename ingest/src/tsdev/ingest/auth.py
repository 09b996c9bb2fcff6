"""Bearer-token checks shared by the receivers and the API."""

from __future__ import annotations

import hmac
from collections.abc import Sequence


def token_allowed(authorization: str | None, tokens: Sequence[str]) -> bool:
    """True when auth is off (no tokens) or the header carries one of ``tokens``.

    Every token is compared in constant time, so the answer's timing does not reveal a prefix."""
    if not tokens:
        return True
    if not authorization:
        return False
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return False
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(presented.strip().encode(), token.encode())
    return matched
