import asyncio

from profile_async import profile  # type: ignore[import-not-found]


def test_profile_combines_user_prefs_and_recommendations() -> None:
    assert asyncio.run(profile.get_profile(7)) == {
        "user": {"id": 7, "name": "user 7"},
        "prefs": {"theme": "dark"},
        "recs": [8, 9],
    }
