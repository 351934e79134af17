from __future__ import annotations

import pytest

from common.i18n import LOCALES_DIR, MissingText, catalogue, t


def test_every_catalogue_loads_with_chinese_first() -> None:
    files = sorted(LOCALES_DIR.glob("*.toml"))
    assert files
    for f in files:
        assert catalogue(f.stem)  # raises if an entry has no zh text


def test_lookup_and_fallback() -> None:
    assert t("common", "hall_name_fallback") == "政务服务中心"
    assert t("common", "hall_name_fallback", "en") == "Government Service Center"
    assert t("common", "hall_name_fallback", "fr") == "政务服务中心"
    with pytest.raises(MissingText):
        t("common", "no_such_key")
