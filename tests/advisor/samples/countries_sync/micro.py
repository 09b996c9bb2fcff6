"""Micro-benchmark: reference-table lookups for 200 invoices of 5 lines each."""

import json

from countries_sync import countries  # type: ignore[import-not-found]

for _ in range(200):
    countries.invoice_header(["DE", "FR", "DE", "JP", "FR"])
print(json.dumps({"metric": "lookups", "value": countries.LOOKUPS["count"], "higher_is_better": False}))
