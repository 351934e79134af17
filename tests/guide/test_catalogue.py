"""The catalogue of matters: it loads, it names every matter the issue asks for under its
exact name, it fits the sample hall's services and counters, and a broken file is refused
with the entry named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from guide.catalogue import (
    CATALOGUE_FILE,
    Bundle,
    CatalogueError,
    Form,
    Matter,
    catalogue,
    load_catalogue,
)
from hall.config import load_config

SAMPLE = Path(__file__).parents[2] / "common" / "assets" / "hall.sample.toml"

REQUIRED = {
    "社保": [
        "城乡居民养老保险参保登记",
        "职工养老保险关系转移接续",
        "社会保障卡申领",
        "社会保障卡挂失与补换",
        "失业保险金申领",
        "退休待遇申领",
        "社保缴费证明打印",
        "灵活就业人员参保登记",
    ],
    "医保": [
        "医保参保登记",
        "异地就医备案",
        "医疗费用手工报销",
        "门诊慢特病待遇认定",
        "生育津贴申领",
        "医保关系转移接续",
    ],
    "公积金": [
        "住房公积金购房提取",
        "住房公积金租房提取",
        "住房公积金退休提取",
        "住房公积金贷款申请",
        "住房公积金缴存证明打印",
    ],
    "不动产": [
        "二手房转移登记",
        "新建商品房转移登记",
        "不动产抵押登记",
        "不动产抵押注销登记",
        "不动产权证书补换",
        "不动产登记资料查询",
    ],
    "户籍": [
        "新生儿出生登记",
        "户口迁入",
        "户口迁出",
        "居民身份证申领与换领",
        "临时居民身份证办理",
        "死亡注销户口",
        "居住证申领",
        "无犯罪记录证明开具",
    ],
    "出入境": ["普通护照申领", "往来港澳通行证及签注", "往来台湾通行证及签注"],
    "企业开办": ["企业设立登记", "企业变更登记", "企业注销登记", "公章刻制", "个体工商户登记"],
    "税务": [
        "发票申领",
        "个人所得税综合所得汇算清缴",
        "新办纳税人套餐",
        "车辆购置税申报",
        "完税证明开具",
    ],
    "综合": ["老年人优待证办理", "残疾人证办理"],
}
BUNDLES = ["新生儿出生一件事", "退休一件事", "企业开办一件事", "二手房交易一件事", "身后一件事"]


def test_every_matter_of_the_issue_under_its_exact_name_and_category() -> None:
    cat = catalogue()
    by_name = {m.name: m for m in cat.matter}
    for category, names in REQUIRED.items():
        for name in names:
            assert name in by_name, name
            assert by_name[name].category == category, name
    assert [b.name for b in cat.bundle] == BUNDLES


def test_fits_the_sample_halls_services_and_counters() -> None:
    cfg = load_config(SAMPLE, demo=True)
    services = {s.code: {c.id for c in cfg.counters if s.code in c.services} for s in cfg.services}
    assert catalogue().check_against(services) == []
    # and the check can fail: a hall without 出入境 and with counter 3 gone
    del services["F"]
    services["A"].discard("3")
    problems = catalogue().check_against(services)
    assert any("crj-01" in p and "'F'" in p for p in problems)
    assert any("sb-01" in p and "['3']" in p for p in problems)


def test_bundles_go_to_the_one_stop_window_with_a_merged_deduplicated_checklist() -> None:
    cat = catalogue()
    for b in cat.bundle:
        assert b.service == "J"
        merged = cat.merged_checklist(b)
        names = [m.name for m in merged]
        assert len(names) == len(set(names)), b.name
        every = {m.name for matter in cat.members(b) for m in matter.checklist()}
        assert set(names) == every, b.name
    # 退休一件事: 居民身份证 is asked by all three members, listed once
    retire = cat.get("yjs-02")
    assert isinstance(retire, Bundle)
    assert [m.name for m in cat.merged_checklist(retire)].count("居民身份证") == 1


def test_every_field_a_hall_publishes_is_filled() -> None:
    for m in catalogue().matter:
        assert m.conditions and m.materials and m.basis and m.faq and m.fee, m.code
        assert len(m.aliases) >= 3, m.code
        assert all(b.startswith("《") for b in m.basis), m.code  # laws by name
        if m.time_limit.legal is not None:
            assert m.time_limit.promised <= m.time_limit.legal
        for mat in m.materials:
            assert isinstance(mat.form, Form) and mat.copies >= 1
            assert mat.name_en.isascii() and mat.name_en != mat.name, (m.code, mat.name)


def test_situation_flows_pick_the_exact_checklist() -> None:
    cat = catalogue()
    fund = cat.matter_of("gjj-01")
    assert [q.text for q in fund.question] == ["买的是新房还是二手房？", "有没有贷款？"]
    new_cash = {m.name for m in fund.checklist({"new", "cash"})}
    used_loan = {m.name for m in fund.checklist({"used", "loan"})}
    assert "购房发票" in new_cash and "不动产权证书" not in new_cash
    assert "借款合同及还款明细" not in new_cash
    assert {"不动产权证书", "契税完税凭证", "借款合同及还款明细"} <= used_loan
    assert "购房发票" not in used_loan
    assert "居民身份证" in new_cash & used_loan


def test_codes_are_stable_and_unique() -> None:
    cat = catalogue()
    codes = [e.code for e in cat.entries()]
    assert len(codes) == len(set(codes))
    assert isinstance(cat.get("hj-01"), Matter) and cat.get("nope-01") is None
    assert len(cat.matter) >= 48 and cat.elsewhere


def _broken(tmp_path: Path, mutate: object) -> Path:
    with CATALOGUE_FILE.open("rb") as f:
        data = tomllib.load(f)
    assert callable(mutate)
    mutate(data)
    path = tmp_path / "matters.toml"
    path.write_text(_dump(data), encoding="utf-8")
    return path


def _dump(data: dict[str, object]) -> str:
    """A minimal TOML writer for the test's mutated copies (arrays of tables, inline
    tables, strings, ints, bools, lists)."""
    import json

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    out = [f"{k} = {value(v)}" for k, v in data.items() if not _is_tables(v)]
    for table, rows in data.items():
        if not _is_tables(rows):
            continue
        assert isinstance(rows, list)
        for row in rows:
            out.append(f"[[{table}]]")
            out += [f"{k} = {value(v)}" for k, v in row.items()]
    return "\n".join(out) + "\n"


def _is_tables(v: object) -> bool:
    return isinstance(v, list) and bool(v) and isinstance(v[0], dict)


def test_the_test_writer_round_trips(tmp_path: Path) -> None:
    assert load_catalogue(_broken(tmp_path, lambda d: None)) == catalogue()


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda d: d["matter"][1].update(code="sb-01"), "codes used twice"),
        (lambda d: d["matter"][0]["materials"][0].update(form="照片"), "matter[0](sb-01)"),
        (lambda d: d["matter"][0].update(colour="red"), "colour"),
        (lambda d: d["bundle"][0]["matters"].append("zz-99"), "unknown matters"),
        (lambda d: d["matter"][0]["materials"][0].update(when=["ghost"]), "no question offers"),
        (lambda d: d["matter"][0].update(time_limit={"legal": 5, "promised": 9}), "promised 9"),
        (lambda d: d["matter"][0].update(aliases=["一"]), "aliases"),
        (lambda d: d["popular"].append("zz-01"), "popular names unknown entries"),
        (
            lambda d: d["synonym"].append({"words": ["过世"], "means": "死亡"}),
            "synonym words listed twice",
        ),
        (lambda d: d["matter"][2]["materials"][1].pop("name_en"), "matter[2](sb-03)"),
        (
            lambda d: d["matter"][0]["materials"][0].update(name_en="居民身份证"),
            "name_en has Chinese characters",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_naming_the_entry(
    tmp_path: Path, mutate: object, says: str
) -> None:
    with pytest.raises(CatalogueError) as err:
        load_catalogue(_broken(tmp_path, mutate))
    assert says in str(err.value)
