"""The guide's routes of Hall API v1 against a real app on the sample hall's config: no
token, ranked answers, the full 办事指南 with a situation's checklist, coded refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guide.catalogue import catalogue
from hall.app import create_app
from hall.config import load_config

SAMPLE = Path(__file__).parents[2] / "common" / "assets" / "hall.sample.toml"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    config = load_config(SAMPLE, demo=True)
    db = tmp_path_factory.mktemp("guide") / "hall.db"
    with TestClient(create_app(config, database=f"sqlite:///{db}")) as c:
        yield c


def test_search_needs_no_token_and_ranks(client: TestClient) -> None:
    r = client.get("/api/v1/guide", params={"q": "社保卡丢了", "limit": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    first = body["results"][0]
    assert first["code"] == "sb-04" and first["name"] == "社会保障卡挂失与补换"
    assert first["kind"] == "matter" and first["service"] == "A"
    assert first["service_name"] == "社保业务" and first["counters"] == ["1", "2", "3", "4"]
    assert 0.5 <= first["score"] <= 1 and len(body["results"]) <= 3
    assert body["elsewhere"] is None


def test_a_bundle_is_one_ticket_to_the_one_stop_window(client: TestClient) -> None:
    answer = client.get("/api/v1/guide", params={"q": "我家孩子刚出生，要办什么"}).json()
    first = answer["results"][0]
    assert first["kind"] == "bundle" and first["service"] == "J"
    guide = client.get(f"/api/v1/matters/{first['code']}").json()
    assert guide["kind"] == "bundle" and guide["name"] == "新生儿出生一件事"
    assert [m["code"] for m in guide["matters"]] == ["hj-01", "yb-01", "sb-03"]
    names = [m["name"] for m in guide["checklist"]]
    assert len(names) == len(set(names)) and "出生医学证明" in names
    assert [c["id"] for c in guide["counters"]] == ["1", "2"]


def test_nothing_here_says_where_to_go(client: TestClient) -> None:
    body = client.get("/api/v1/guide", params={"q": "结婚登记"}).json()
    assert body["results"] == []
    assert "婚姻登记处" in body["elsewhere"]["where"]


def test_the_full_guide_and_a_situations_checklist(client: TestClient) -> None:
    r = client.get("/api/v1/matters/gjj-01")
    assert r.status_code == 200
    g = r.json()
    assert g["name"] == "住房公积金购房提取" and g["service_name"] == "公积金业务"
    assert g["time_limit_legal_days"] == 3 and g["time_limit_promised_days"] == 1
    assert g["basis"] == ["《住房公积金管理条例》"] and g["faq"] and g["conditions"]
    assert [q["id"] for q in g["questions"]] == ["house", "loan"]
    assert g["url"].endswith("/guide/gjj-01")
    plain = {m["name"] for m in g["checklist"]}
    case = client.get("/api/v1/matters/gjj-01", params={"tags": "used,loan"}).json()
    chosen = {m["name"] for m in case["checklist"]}
    assert case["tags"] == ["loan", "used"]
    assert chosen - plain == {"不动产权证书", "契税完税凭证", "借款合同及还款明细"}
    names = [c["name"] for c in g["counters"]]
    assert names == ["1号综合窗口", "2号综合窗口", "8号窗口", "9号窗口"]


def test_the_catalogue_lists_every_entry(client: TestClient) -> None:
    entries = client.get("/api/v1/matters").json()
    assert len(entries) == 55
    assert {e["kind"] for e in entries} == {"matter", "bundle"}
    assert all(e["service_name"] for e in entries)  # the sample configures every queue
    assert {e["code"] for e in entries if e["popular"]} == set(catalogue().popular)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/matters/zz-99", {}, 404, "guide_matter_not_found"),
        ("/api/v1/matters/gjj-01", {"tags": "ghost"}, 400, "guide_bad_tags"),
        ("/api/v1/matters/gjj-01", {"tags": "new,used"}, 400, "guide_bad_tags"),
        ("/api/v1/matters/yjs-01", {"tags": "new"}, 400, "guide_bad_tags"),
        ("/api/v1/guide", {"q": "x" * 101}, 422, None),
        ("/api/v1/guide", {"q": "社保", "limit": 0}, 422, None),
    ],
)
def test_bad_requests_are_coded_refusals(
    client: TestClient, path: str, params: dict[str, str], status: int, code: str | None
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    body = r.json()
    if code:
        assert body["error"] == code and body["zh"] and body["en"]
