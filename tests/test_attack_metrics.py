"""Attack pass: /metrics cannot be made to grow without bound by a caller."""

from __future__ import annotations

from typing import Any

from tests.test_metrics import TOKEN, metrics_app  # noqa: F401 (fixture)


def test_made_up_http_methods_share_one_label(metrics_app: Any) -> None:  # noqa: F811
    """Each made-up method (``curl -X RANDOM1``) was a new time series: memory without bound."""
    client = metrics_app.test_client()
    for n in range(5):
        assert client.open("/healthz", method=f"RANDOM{n}").status_code == 405
    assert client.get("/healthz").status_code == 200
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert "RANDOM" not in text
    assert 'method="other"' in text
    assert 'method="GET"' in text
