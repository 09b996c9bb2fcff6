"""The profile page loads three independent things, one after another."""

from __future__ import annotations

import asyncio
from typing import Any

LATENCY_S = {"value": 0.0}


async def load_user(user_id: int) -> dict[str, Any]:
    await asyncio.sleep(LATENCY_S["value"])
    return {"id": user_id, "name": f"user {user_id}"}


async def load_prefs(user_id: int) -> dict[str, Any]:
    await asyncio.sleep(LATENCY_S["value"])
    return {"theme": "dark" if user_id % 2 else "light"}


async def load_recs(user_id: int) -> list[int]:
    await asyncio.sleep(LATENCY_S["value"])
    return [user_id + 1, user_id + 2]


async def get_profile(user_id: int) -> dict[str, Any]:
    user = await load_user(user_id)
    prefs = await load_prefs(user_id)
    recs = await load_recs(user_id)
    return {"user": user, "prefs": prefs, "recs": recs}
