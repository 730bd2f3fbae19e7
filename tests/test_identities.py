"""One row per person: .mailmap (as git reads it), aliases, bots apart."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.services.identities import Identities, Mailmap
from tests.test_league import by, push

MAILMAP = """\
# every form git documents, and case differences
Jane Doe <jane@example.org>
<joe@example.org> <joe@old.example.org>
Ann Lee <ann@example.org> <ann@home.example.org>
Bob Ray <bob@example.org> Bobby <BOB@Work.example.org>
Bob Ray <bob@example.org> <bob@laptop.example.org>
Other Bob <other@example.org> Robert <bob@work.example.org>
not a mailmap line
Cy <cy@example.org> <CY@OLD.example.org>
Cy Later <cy@example.org> <cy@old.example.org>
"""
IDENTITIES = [
    ("jane", "jane@example.org"),
    ("JANE", "JANE@EXAMPLE.ORG"),
    ("Joe", "joe@old.example.org"),
    ("Joe", "JOE@OLD.example.org"),
    ("Annie", "ann@home.example.org"),
    ("Bobby", "bob@work.example.org"),
    ("bobby", "bob@work.example.org"),
    ("Robert", "BOB@work.example.org"),
    ("Someone", "bob@work.example.org"),
    ("B", "bob@laptop.example.org"),
    ("C", "cy@old.example.org"),
    ("Nobody", "nobody@example.org"),
]


def git_check_mailmap(repo: Path, identities: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = subprocess.run(
        ["git", "check-mailmap", *(f"{n} <{e}>" for n, e in identities)],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    pairs = []
    for line in out:
        name, email = line.rsplit(" <", 1)
        pairs.append((name, email.rstrip(">")))
    return pairs


def test_mailmap_lookup_agrees_with_git_check_mailmap(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".mailmap").write_text(MAILMAP)
    expected = git_check_mailmap(tmp_path, IDENTITIES)
    mailmap = Mailmap([MAILMAP])
    assert [mailmap.lookup(n, e) for n, e in IDENTITIES] == expected


def test_mailmap_aliases_and_bots_make_people() -> None:
    rules = Identities(
        Mailmap([MAILMAP]),
        aliases={
            e: ("jane@example.org", "J. Doe") for e in ("joe@example.org", "jane@example.org")
        },
        bot_emails=["ci@example.org"],
    )
    assert rules.person("Joe", "JOE@old.example.org") == ("jane@example.org", "J. Doe", False)
    assert rules.person("jane", "Jane@Example.org") == ("jane@example.org", "J. Doe", False)
    assert rules.person("Ann", "ann@home.example.org").name == "Ann Lee"
    assert rules.person("x", "x@example.org") == ("x@example.org", None, False)
    for name, email in [
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"),
        ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
        ("Renovate Bot", "renovate@whitesourcesoftware.com"),
        ("CI", "CI@example.org"),
        ("Anything", "x[bot]@users.noreply.github.com"),
    ]:
        assert rules.person(name, email).is_bot, (name, email)
    assert not rules.person("Abbott", "abbott@example.org").is_bot


@pytest.fixture
def team(client: Any, seed: Any) -> dict[str, Any]:
    owner = seed.actor("owner@example.org")
    project = seed.project(owner)
    repo = seed.repo(project)
    push(client, owner, repo, [
        by("jane", "jane@example.org", "2024-05-01T10:00:00Z", 1, 0),
        by("Jane D", "jane@home.example.org", "2024-05-01T11:00:00Z", 1, 0),
        by("Joe", "joe@old.example.org", "2024-05-02T10:00:00Z", 1, 0),
        by("Joe", "joe@example.org", "2024-05-03T10:00:00Z", 1, 0),
        by("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com",
           "2024-05-04T10:00:00Z", 1, 1),
        by("CI", "ci@example.org", "2024-05-04T11:00:00Z", 1, 1),
    ])  # fmt: skip
    return {"owner": owner, "project": project, "repo": repo}


def rows(client: Any, team: dict[str, Any], query: str = "") -> list[tuple[str, str, int, int]]:
    resp = client.get(f"/api/v1/projects/{team['project']}/contributors{query}",
                      headers=team["owner"].headers())  # fmt: skip
    assert resp.status_code == 200, resp.json
    return [(r["author_email"], r["author_name"], r["commits"], r["active_days"])
            for r in resp.json["items"]]  # fmt: skip


def test_an_uploaded_mailmap_and_an_alias_rerank_history(client: Any, team: dict[str, Any]):
    h = team["owner"].headers()
    assert len(rows(client, team)) == 5  # the bot is apart
    text = "Jane Doe <jane@example.org> <jane@home.example.org>\n<joe@example.org> <joe@old.example.org>\n"
    resp = client.put(f"/api/v1/repos/{team['repo']}/mailmap", headers=h,
                      json={"blob_sha": "b" * 40, "content": text})  # fmt: skip
    assert resp.status_code == 200 and resp.json["blob_sha"] == "b" * 40
    assert rows(client, team) == [
        ("jane@example.org", "Jane Doe", 2, 1),  # two emails, one day
        ("joe@example.org", "Joe", 2, 2),
        ("ci@example.org", "CI", 1, 1),
    ]
    resp = client.post(f"/api/v1/projects/{team['project']}/aliases", headers=h,
                       json={"emails": ["JOE@example.org", "jane@example.org"], "name": "J+J"})  # fmt: skip
    assert resp.status_code == 201, resp.json
    assert rows(client, team) == [("joe@example.org", "J+J", 4, 3), ("ci@example.org", "CI", 1, 1)]
    listed = client.get(f"/api/v1/projects/{team['project']}/aliases", headers=h).json
    assert listed["items"] == [{"person_email": "joe@example.org", "name": "J+J",
                                "emails": ["jane@example.org", "joe@example.org"]}]  # fmt: skip
    gone = client.delete(f"/api/v1/projects/{team['project']}/aliases/jane@example.org", headers=h)
    assert gone.status_code == 204
    assert len(rows(client, team)) == 3
    assert client.delete(f"/api/v1/repos/{team['repo']}/mailmap", headers=h).status_code == 204
    assert len(rows(client, team)) == 5
    missing = client.delete(f"/api/v1/projects/{team['project']}/aliases/jane@example.org",
                            headers=h)  # fmt: skip
    assert missing.status_code == 404


def test_bots_apart_unless_included(client: Any, team: dict[str, Any]):
    h = team["owner"].headers()
    emails = [r[0] for r in rows(client, team)]
    assert not any("bot" in e for e in emails) and "ci@example.org" in emails
    assert any("dependabot" in r[0] for r in rows(client, team, "?include_bots=true"))
    resp = client.patch(f"/api/v1/projects/{team['project']}/league-settings", headers=h,
                        json={"bot_emails": ["CI@example.org"]})  # fmt: skip
    assert resp.json == {"include_bots": False, "bot_emails": ["ci@example.org"]}
    assert "ci@example.org" not in [r[0] for r in rows(client, team)]
    client.patch(f"/api/v1/projects/{team['project']}/league-settings", headers=h,
                 json={"include_bots": True})  # fmt: skip
    assert len(rows(client, team)) == 6
    assert len(rows(client, team, "?include_bots=false")) == 4
    weeks = client.get(f"/api/v1/projects/{team['project']}/activity?include_bots=false",
                       headers=h).json["items"]  # fmt: skip
    assert [(w["commits"], w["contributors"]) for w in weeks] == [(4, 4)]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"blob_sha": "nope", "content": ""}, "blob_sha"),
        ({"blob_sha": "a" * 40}, "content"),
        ({"blob_sha": "a" * 40, "content": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_mailmap_uploads_are_named(
    client: Any, team: dict[str, Any], body: dict, fragment: str
):
    resp = client.put(f"/api/v1/repos/{team['repo']}/mailmap", json=body,
                      headers=team["owner"].headers())  # fmt: skip
    assert resp.status_code == 422 and fragment in resp.json["error"]["message"]


def test_admin_cli_sets_lists_and_removes_aliases(client: Any, team: dict[str, Any], runner: Any):
    pid = team["project"]
    result = runner.invoke(args=["league", "alias", "set", pid, "Joe@example.org",
                                 "joe@old.example.org", "--name", "Joe Bloggs"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ("joe@example.org", "Joe Bloggs", 2, 2) in rows(client, team)
    listed = runner.invoke(args=["league", "alias", "list", pid])
    assert listed.output == "joe@example.org\tJoe Bloggs\tjoe@example.org joe@old.example.org\n"
    assert (
        runner.invoke(args=["league", "alias", "remove", pid, "joe@old.example.org"]).exit_code == 0
    )
    assert len(rows(client, team)) == 5
    missing = runner.invoke(args=["league", "alias", "remove", pid, "joe@old.example.org"])
    assert missing.exit_code == 1 and "no alias for joe@old.example.org" in missing.output
    bad = runner.invoke(args=["league", "alias", "set", pid, "not-an-email"])
    assert bad.exit_code == 1 and "emails" in bad.output
