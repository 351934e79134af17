"""The cockpit's web API in-process (issue 22): admins only, staff get the advice for their
own counter only, bad input is a coded 4xx (never a 500), the downloads are what they say."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web


def test_who_may_read_what(web: Web) -> None:
    assert web.get("/cockpit/today").status_code == 401
    web.login("wang")
    assert web.get("/cockpit/today").status_code == 403
    assert web.get("/cockpit/plan").status_code == 403
    assert web.get("/cockpit/advice").json() == {"advice": []}
    assert web.get("/cockpit/advice", params={"counter": "1"}).status_code == 200
    assert web.get("/cockpit/advice", params={"counter": "2"}).status_code == 403
    assert web.get("/cockpit/advice", params={"counter": "99"}).json()["error"] == "unknown_counter"


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        (
            "/cockpit/what-if",
            {"day": "2026-13-01", "counter": "1", "at": "11:00"},
            "invalid_what_if",
        ),
        (
            "/cockpit/what-if",
            {"day": "2026-11-24", "counter": "1", "at": "25:00"},
            "invalid_what_if",
        ),
        (
            "/cockpit/what-if",
            {"day": "2026-11-24", "counter": "1", "at": "１1:00"},
            "invalid_what_if",
        ),
        (
            "/cockpit/what-if",
            {"day": "2030-01-02", "counter": "1", "at": "11:00"},
            "invalid_what_if",
        ),
        (
            "/cockpit/what-if",
            {"day": "2026-11-24", "counter": "zz", "at": "11:00"},
            "unknown_counter",
        ),
        ("/cockpit/performance", {"month": "0001-01"}, "invalid_range"),
        ("/cockpit/performance", {"month": "2026-1"}, "invalid_range"),
        ("/cockpit/performance", {"day": "9999-12-31"}, "invalid_range"),
        ("/cockpit/bulletin.pdf", {"month": "2000-01"}, None),
        ("/cockpit/bulletin.pdf", {"month": "1999-12"}, "invalid_range"),
    ],
)
def test_bad_input_is_a_coded_refusal(
    web: Web, path: str, params: dict[str, str], code: str | None
) -> None:
    web.login("boss")
    r = web.get(path, params=params)
    if code is None:
        assert r.status_code == 200  # the first month there is: an empty 通报, not an error
    else:
        assert r.status_code in (404, 422) and r.json()["error"] == code, r.text


def test_an_empty_hall_has_a_plan_page_without_errors(web: Web) -> None:
    web.issue("B")
    web.login("boss")
    today = web.get("/cockpit/today").json()
    assert today["attainment"]["by_service"]["B"]["pending"] == 1
    assert web.get("/cockpit/plan").json()["days"] == []  # no history yet: nothing forecast
    assert web.get("/cockpit/coverage").json()["share"] is None
    xlsx = web.get("/cockpit/performance.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    pdf = web.get("/cockpit/bulletin.pdf", params={"month": "2026-10"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
