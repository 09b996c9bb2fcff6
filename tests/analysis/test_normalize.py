import polars as pl
import pytest

from tsdev.analysis.normalize import (
    http_template,
    is_truncated_expr,
    normalize_sql,
    sql_has_placeholders_expr,
    sql_tables_expr,
    sql_values_expr,
    sql_verb_expr,
    url_values_expr,
)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM users WHERE id = 42", "SELECT * FROM users WHERE id = ?"),
        ("SELECT * FROM users WHERE id = 7", "SELECT * FROM users WHERE id = ?"),
        ("select a from t where name = 'O''Brien'  -- note", "select a from t where name = ?"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)"),
        ("SELECT * FROM t WHERE id IN ($1,$2)", "SELECT * FROM t WHERE id IN (?)"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "INSERT INTO t (a, b) VALUES (?)"),
        ("INSERT INTO t (a) VALUES (%s)", "INSERT INTO t (a) VALUES (?)"),
        (
            "SELECT * FROM t WHERE a = %(a)s AND b = :b AND c::int = 3",
            "SELECT * FROM t WHERE a = ? AND b = ? AND c::int = ?",
        ),
        ("SELECT t1.a FROM t1 /* hint */ WHERE x = 1.5e3", "SELECT t1.a FROM t1 WHERE x = ?"),
        ("SELECT * FROM t WHERE h = 0xff", "SELECT * FROM t WHERE h = ?"),
    ],
)
def test_sql_literals_lists_and_placeholders_become_one_operation(statement: str, expected: str) -> None:
    assert normalize_sql(statement) == expected


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("get", "https://api.example.com/users/42", "GET api.example.com/users/{id}"),
        ("GET", "http://api/users/42/orders/7", "GET api/users/{id}/orders/{id}"),
        (
            "GET",
            "https://u:secret@files:8443/b/550e8400-e29b-41d4-a716-446655440000/deadbeef99?x=1&full=abc#top",
            "GET files:8443/b/{uuid}/{hex}?x=?&full=?",
        ),
        ("POST", "http://svc/v2/items", "POST svc/v2/items"),
        ("GET", "http://svc/v2/facade", "GET svc/v2/facade"),
    ],
)
def test_http_calls_become_method_and_url_template(method: str, url: str, expected: str) -> None:
    assert http_template(method, url) == expected


def test_values_tables_verbs_and_flags() -> None:
    frame = pl.DataFrame(
        {
            "s": [
                "SELECT * FROM \"Users\" u JOIN orders o ON o.uid = u.id WHERE u.name = 'x' AND u.age = 5",
                "UPDATE inventory SET qty = qty - 1 WHERE sku = $1",
                "SELECT * FROM big WHERE a = 1 AND b = 2...",
            ],
            "u": ["http://h/a/12/b?q=3&r=", "http://h/a", "http://h/x/abcdef0123456789"],
        }
    )
    out = frame.select(
        sql_values_expr(pl.col("s")).alias("values"),
        sql_tables_expr(pl.col("s")).alias("tables"),
        sql_verb_expr(pl.col("s")).alias("verb"),
        sql_has_placeholders_expr(pl.col("s")).alias("placeholders"),
        is_truncated_expr(pl.col("s")).alias("truncated"),
        url_values_expr(pl.col("u")).alias("url_values"),
    ).to_dicts()
    assert out == [
        {
            "values": ["x", "5"],
            "tables": ["users", "orders"],
            "verb": "SELECT",
            "placeholders": False,
            "truncated": False,
            "url_values": ["12", "3", ""],
        },
        {
            "values": ["1"],
            "tables": ["inventory"],
            "verb": "UPDATE",
            "placeholders": True,
            "truncated": False,
            "url_values": [],
        },
        {
            "values": ["1", "2"],
            "tables": ["big"],
            "verb": "SELECT",
            "placeholders": False,
            "truncated": True,
            "url_values": ["abcdef0123456789"],
        },
    ]
