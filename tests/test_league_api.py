"""League periods, rankings, rank changes, a contributor's page, activity, a repo's table."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_league import by, push

ALICE, BOB, CAROL = (("Alice", "alice@example.org"), ("Bob", "bob@example.org"),
                     ("Carol", "carol@example.org"))  # fmt: skip


def c(who: tuple[str, str], when: str, adds: int = 1, dels: int = 0) -> dict[str, Any]:
    return by(who[0], who[1], when, adds, dels)


@pytest.fixture
def months(client: Any, seed: Any) -> dict[str, Any]:
    """March: Bob 3, Alice 1 (at the very end, UTC); April: Alice 2, Carol 1 (3 lines), Bob 1."""
    owner = seed.actor("owner@example.org")
    project = seed.project(owner, "League")
    core, docs = seed.repo(project, name="core"), seed.repo(project, name="docs")
    push(client, owner, core, [
        c(BOB, "2024-03-04T10:00:00Z"), c(BOB, "2024-03-05T10:00:00Z"),
        c(BOB, "2024-03-06T10:00:00Z", 50, 50),
        c(ALICE, "2024-04-01T00:30:00+01:00"),  # 2024-03-31 23:30 UTC: March
        c(ALICE, "2024-04-01T00:00:00Z"), c(ALICE, "2024-04-02T23:59:59-00:00", 7, 7),
        c(BOB, "2024-04-10T10:00:00Z"),
    ])  # fmt: skip
    push(client, owner, docs, [c(CAROL, "2024-03-31T23:59:59-02:00", 3, 0)])  # April 1st, UTC
    return {"owner": owner, "project": project, "core": core, "docs": docs}


def get(client: Any, world: dict[str, Any], path: str) -> Any:
    resp = client.get(path.format(**world), headers=world["owner"].headers())
    assert resp.status_code == 200, resp.json
    return resp.json


def ranking(doc: dict[str, Any]) -> list[tuple[str, int, Any]]:
    return [(r["author_email"].split("@")[0], r["commits"], r["rank_change"]) for r in doc["items"]]


def test_calendar_months_cut_at_utc_midnight_with_rank_changes(client: Any, months: dict):
    march = get(
        client, months, "/api/v1/projects/{project}/contributors?period=month&on=2024-03-15"
    )
    assert ranking(march) == [("bob", 3, None), ("alice", 1, None)]  # February: nobody
    april = get(
        client, months, "/api/v1/projects/{project}/contributors?period=month&on=2024-04-30"
    )
    assert ranking(april) == [("alice", 2, 1), ("carol", 1, None), ("bob", 1, -2)]  # ties: lines
    assert [r["rank"] for r in april["items"]] == [1, 2, 3]
    same = get(client, months,
               "/api/v1/projects/{project}/contributors?since=2024-04-01&until=2024-05-01")  # fmt: skip
    assert ranking(same)[0][:2] == ("alice", 2)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("period=week&on=2024-04-03", [("alice", 2), ("carol", 1)]),  # Monday 1 April
        ("period=week&on=2024-03-31", [("alice", 1)]),  # Monday 25 to Sunday 31 March
        ("period=quarter&on=2024-02-01", [("bob", 3), ("alice", 1)]),
        ("period=quarter&on=2024-04-01", [("alice", 2), ("carol", 1), ("bob", 1)]),
        ("period=year&on=2024-06-01", [("bob", 4), ("alice", 3), ("carol", 1)]),
        ("period=year&on=2023-06-01", []),
        ("period=all", [("bob", 4), ("alice", 3), ("carol", 1)]),
        ("since=2024-04-02T00:00:00Z", [("alice", 1), ("bob", 1)]),
        ("until=2024-04-01T00:00:00%2B00:00", [("bob", 3), ("alice", 1)]),
    ],
)
def test_periods(client: Any, months: dict, query: str, expected: list):
    doc = get(client, months, "/api/v1/projects/{project}/contributors?" + query)
    assert [(e, n) for e, n, _ in ranking(doc)] == expected


def test_rankings_by_lines_and_active_days(client: Any, months: dict):
    lines = get(client, months, "/api/v1/projects/{project}/contributors?sort=lines")
    assert [(r["author_email"][:3], r["lines_changed"]) for r in lines["items"]] == [
        ("bob", 103), ("ali", 16), ("car", 3),
    ]  # fmt: skip
    days = get(client, months, "/api/v1/projects/{project}/contributors?sort=active_days")
    assert [(r["author_email"][:3], r["active_days"]) for r in days["items"]] == [
        ("bob", 4), ("ali", 3), ("car", 1),
    ]  # fmt: skip


def test_one_email_in_two_cases_is_one_person_with_exact_active_days(client: Any, seed: Any):
    owner = seed.actor("owner@example.org")
    project = seed.project(owner)
    repo = seed.repo(project)
    push(client, owner, repo, [
        c(("Dee", "dee@example.org"), "2024-05-01T08:00:00Z"),
        c(("Dee", "DEE@example.org"), "2024-05-01T09:00:00Z"),  # same day, other case
        c(("Dee D.", "Dee@Example.org"), "2024-05-02T09:00:00Z"),
    ])  # fmt: skip
    world = {"owner": owner, "project": project}
    (row,) = get(client, world, "/api/v1/projects/{project}/contributors")["items"]
    assert (row["commits"], row["active_days"], row["emails"]) == (3, 2, ["dee@example.org"])
    assert row["author_name"] == "Dee D."  # the latest commit's
    week = get(client, world, "/api/v1/projects/{project}/contributors?period=week&on=2024-05-01")
    assert week["items"][0]["active_days"] == 2


def test_a_contributors_page_and_the_weekly_activity(client: Any, months: dict):
    page = get(client, months, "/api/v1/projects/{project}/contributors/ALICE@example.org")
    assert page["contributor"]["author_email"] == "alice@example.org"
    assert page["contributor"]["commits"] == 3 and page["contributor"]["repos"] == 1
    assert page["weeks"] == [
        {"week": "2024-03-25", "commits": 1, "merges": 0},
        {"week": "2024-04-01", "commits": 2, "merges": 0},
    ]
    assert [(r["repo_name"], r["commits"]) for r in page["repos"]] == [("core", 3)]
    nobody = get(client, months, "/api/v1/projects/{project}/contributors/nobody@example.org")
    assert nobody["contributor"]["commits"] == 0 and nobody["weeks"] == []
    activity = get(client, months, "/api/v1/projects/{project}/activity")
    assert [(w["week"], w["commits"], w["contributors"]) for w in activity["items"]] == [
        ("2024-03-04", 3, 1), ("2024-03-25", 1, 1), ("2024-04-01", 3, 2), ("2024-04-08", 1, 1),
    ]  # fmt: skip
    paged = get(client, months, "/api/v1/projects/{project}/activity?per_page=2&page=2")
    assert paged["total"] == 4 and [w["week"] for w in paged["items"]] == [
        "2024-04-01",
        "2024-04-08",
    ]


def test_the_table_of_one_repo(client: Any, months: dict):
    docs = get(client, months, "/api/v1/repos/{docs}/contributors")
    assert ranking(docs) == [("carol", 1, None)] and docs["items"][0]["repos"] == 1
    core = get(client, months, "/api/v1/repos/{core}/contributors?period=month&on=2024-04-05")
    assert ranking(core) == [("alice", 2, 1), ("bob", 1, -1)]


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("period=fortnight", "period"),
        ("period=month&since=2024-01-01", "period"),
        ("since=2024-02-01T10:00:00Z", "since"),
        ("until=2024-13-01", "until"),
        ("sort=name", "sort"),
        ("on=yesterday", "on"),
    ],
)
def test_bad_league_queries_are_named(client: Any, months: dict, query: str, fragment: str):
    resp = client.get(f"/api/v1/projects/{months['project']}/contributors?{query}",
                      headers=months["owner"].headers())  # fmt: skip
    assert resp.status_code == 422, resp.json
    assert fragment in resp.json["error"]["message"]


def test_openapi_documents_the_league_responses(app: Any):
    spec = app.extensions["gitleague.api"].spec.to_dict()
    schemas = spec["components"]["schemas"]
    table = spec["paths"]["/api/v1/projects/{project_id}/contributors"]["get"]["responses"]["200"]
    assert table["content"]["application/json"]["schema"]["$ref"].endswith("/LeaguePage")
    row = schemas["ContributorOut"]["properties"]
    assert {"rank", "rank_change", "emails", "active_days", "repos", "lines_changed"} <= set(row)
    page = spec["paths"]["/api/v1/projects/{project_id}/contributors/{email}"]["get"]
    assert page["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ContributorPageOut"
    )
    assert set(schemas["ContributorPageOut"]["properties"]) == {"contributor", "weeks", "repos"}
