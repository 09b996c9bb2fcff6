"""The corpus labels: per scenario, the finding kind it is about, whether that kind must be reported
(a positive) or must not (a near miss), and the operation concerned.

Each scenario is recorded as a service of its own, named after the scenario, so a finding's service
says which scenario it came from. A positive is found when its service gets a finding of its kind that
names its operation (the finding's parent operation is it, or one of the finding's operations
contains it); any other finding of any kind on a corpus service is a false positive: a near miss
reported, or a scenario reported for a kind it was not built to show.

Thresholds the scenarios are sized against are the detectors' defaults: ``n_plus_one`` needs 5
repeats under one parent taking 50 ms together; ``flaky_step`` 50 runs, 0.5 to 50 % failing, mostly
transient, in at least 3 separate streaks; ``parallelizable`` a sequential run of different calls
saving 100 ms in 3 traces, with a sign of independence; ``cacheable`` 20 reads of one value with a
30 % hit rate at a 5 minute TTL, or one read repeated within a request in 2 traces.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsdev.analysis.findings import Finding, FindingKind


@dataclass(frozen=True)
class Scenario:
    name: str
    """Also the service name its spans carry."""
    kind: FindingKind
    positive: bool
    method: str
    path: str
    operation: str
    """The operation a finding must name (parent operation, or part of an operation)."""
    requests: int
    shape: str
    concurrency: int = 1
    """Requests in flight at once; 1 where order or timing between requests is the point."""

    def matches(self, finding: Finding) -> bool:
        return (
            finding.service == self.name
            and finding.kind == self.kind
            and (
                finding.parent_operation == self.operation
                or any(self.operation in operation for operation in finding.operations)
            )
        )


SCENARIOS: tuple[Scenario, ...] = (
    # -- n_plus_one ------------------------------------------------------------------------------
    Scenario(
        "orders-loop", "n_plus_one", True, "GET", "/orders", "GET /orders", 3,
        "one query for a user's 8 orders, then one items query per order (8 ms each)",
    ),
    Scenario(
        "cart-http-loop", "n_plus_one", True, "GET", "/cart", "GET /cart", 3,
        "one inventory call per cart line, 6 lines of 12 ms",
    ),
    Scenario(
        "concurrent-prices", "n_plus_one", True, "GET", "/basket", "GET /basket", 3,
        "one price call per basket item, 6 gathered at once (60 ms each)",
    ),
    Scenario(
        "feed-resolvers", "n_plus_one", True, "GET", "/feed", "GET /feed", 3,
        "a resolver span per post loading its author and its comments: (users, comments) x 4, 8 ms each",
    ),
    Scenario(
        "four-repeats", "n_plus_one", False, "GET", "/orders", "GET /orders", 3,
        "only 4 items queries per request, slow ones (30 ms)",
    ),
    Scenario(
        "fast-repeats", "n_plus_one", False, "GET", "/orders", "GET /orders", 3,
        "10 items queries per request on a local database, a few ms together: under the time floor",
    ),
    Scenario(
        "redis-repeats", "n_plus_one", False, "GET", "/orders", "GET /orders", 3,
        "one redis GET per order, 10 of 20 ms: cache commands are cheap by design",
    ),
    Scenario(
        "query-waterfall", "n_plus_one", False, "GET", "/dashboard", "GET /dashboard", 3,
        "six different statements one after another (20 ms each): slow, but not a loop",
    ),
    # -- flaky_step ------------------------------------------------------------------------------
    Scenario(
        "quote-timeouts", "flaky_step", True, "POST", "/checkout", "/quote?checkout=", 60,
        "a payment quote that hangs past the client's 150 ms timeout on one call in 10",
        concurrency=6,
    ),
    Scenario(
        "charge-retries", "flaky_step", True, "POST", "/pay", "/charges", 60,
        "a charge answered 503 on one call in 8, retried once (the retry succeeds)",
        concurrency=6,
    ),
    Scenario(
        "always-fails", "flaky_step", False, "GET", "/stock", "/legacy-stock/", 60,
        "a call to a service that answers 503 every time: broken, not flaky",
        concurrency=6,
    ),
    Scenario(
        "quote-outage", "flaky_step", False, "POST", "/checkout", "/quote-outage?checkout=", 60,
        "7 failures in one streak (calls 25 to 31), the rest fine: an outage",
    ),
    Scenario(
        "too-few-runs", "flaky_step", False, "POST", "/checkout", "/quote-few?checkout=", 40,
        "the quote timeouts of quote-timeouts, but only 40 runs",
        concurrency=6,
    ),
    Scenario(
        "signup-bug", "flaky_step", False, "POST", "/signup", "INSERT INTO signups", 60,
        "one insert in 10 breaks a unique constraint: a bug, not a transient failure",
        concurrency=5,
    ),
    # -- parallelizable --------------------------------------------------------------------------
    Scenario(
        "profile-awaits", "parallelizable", True, "GET", "/profile", "GET /profile", 5,
        "user, prefs and recommendations awaited one after another (80, 60, 70 ms), all by the user id",
    ),
    Scenario(
        "summary-order-varies", "parallelizable", True, "GET", "/summary", "GET /summary", 5,
        "two 120 ms queries with bound parameters, run in either order depending on the request",
    ),
    Scenario(
        "report-workflow", "parallelizable", True, "POST", "/reports", "report", 5,
        "a workflow whose two steps (150, 120 ms) run one after another and declare no dependency",
    ),
    Scenario(
        "dependent-calls", "parallelizable", False, "GET", "/account", "GET /account", 5,
        "member, then account and ledger by the account id the member call returned (70 ms each)",
    ),
    Scenario(
        "undeclared-steps", "parallelizable", False, "POST", "/reports", "report", 5,
        "the report workflow whose steps do not say what they depend on",
    ),
    Scenario(
        "small-saving", "parallelizable", False, "GET", "/badge", "GET /badge", 5,
        "three independent calls one after another, 15 ms each: saves less than 100 ms",
    ),
    # -- cacheable -------------------------------------------------------------------------------
    Scenario(
        "catalog-reads", "cacheable", True, "GET", "/catalog", "FROM products", 30,
        "the whole catalog read on every request; nothing writes to it",
    ),
    Scenario(
        "rate-reads", "cacheable", True, "GET", "/price", "/rates/EUR", 30,
        "the same exchange rate fetched over HTTP on every request",
    ),
    Scenario(
        "flags-memo", "cacheable", True, "GET", "/page", "GET /page", 10,
        "the feature flags read twice within each request",
    ),
    Scenario(
        "counter-writes", "cacheable", False, "GET", "/visits", "FROM visits", 30,
        "a visit count read, then a visit inserted, by every request: a write between any two reads",
    ),
)  # fmt: skip
