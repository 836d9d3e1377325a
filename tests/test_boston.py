"""course_utils.data.load_boston_housing: the shipped table, faithfully, or a clear error."""

import hashlib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from course_utils.data import BOSTON_SHA256, load_boston_housing

SHIPPED = resources.files("course_utils").joinpath("resources", "boston_house_prices.csv")
COLUMNS = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO",
           "B", "LSTAT", "MEDV"]


def test_the_shipped_csv_is_package_data_with_the_published_checksum():
    raw = SHIPPED.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == BOSTON_SHA256
    assert raw.startswith(b"506,13,")
    for name in ("boston_house_prices.description.rst", "README.md"):
        assert resources.files("course_utils").joinpath("resources", name).is_file()


def test_table_is_loaded_faithfully():
    df = load_boston_housing()
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (506, 14) and list(df.columns) == COLUMNS
    assert not df.isna().any().any()
    first = [0.00632, 18, 2.31, 0, 0.538, 6.575, 65.2, 4.09, 1, 296, 15.3, 396.9, 4.98, 24]
    last = [0.04741, 0, 11.93, 0, 0.573, 6.03, 80.8, 2.505, 1, 273, 21, 396.9, 7.88, 11.9]
    assert df.iloc[0].tolist() == first and df.iloc[-1].tolist() == last
    assert set(df["CHAS"]) == {0, 1}
    assert df["MEDV"].between(5, 50).all()  # $1000s, censored at 50


def test_an_identical_copy_elsewhere_loads(tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_bytes(SHIPPED.read_bytes())
    assert load_boston_housing(copy).equals(load_boston_housing())
    assert load_boston_housing(str(copy)).equals(load_boston_housing())


def tampered(raw: bytes) -> bytes:
    """One value changed: 24 -> 25 in MEDV of the first row; still a valid CSV."""
    assert raw.count(b",4.98,24\n") == 1
    return raw.replace(b",4.98,24\n", b",4.98,25\n")


@pytest.mark.parametrize("change", [
    tampered,
    lambda raw: raw[: len(raw) // 2 - 40],  # truncated mid-way
    lambda raw: raw[:raw.rindex(b"\n", 0, len(raw) - 1) + 1],  # last row dropped
    lambda raw: raw.replace(b"\n", b"\r\n"),  # line endings rewritten
    lambda raw: b"",
])
def test_changed_or_truncated_file_raises_naming_it(tmp_path, change):
    bad = tmp_path / "boston_bad.csv"
    bad.write_bytes(change(SHIPPED.read_bytes()))
    with pytest.raises(ValueError, match=r"boston_bad\.csv: SHA-256 .* changed or truncated"):
        load_boston_housing(bad)


def test_missing_file_raises_a_value_error_naming_path(tmp_path):
    with pytest.raises(ValueError, match="^path must name an existing file"):
        load_boston_housing(tmp_path / "nope.csv")


def test_default_location_is_checked_too(monkeypatch, tmp_path):
    """A tampered copy in the package's own place is refused as well (resources patched)."""
    package = tmp_path / "pkg"
    (package / "resources").mkdir(parents=True)
    (package / "resources" / "boston_house_prices.csv").write_bytes(
        tampered(SHIPPED.read_bytes()))
    monkeypatch.setattr("course_utils.data.resources.files", lambda name: Path(package))
    with pytest.raises(ValueError, match="boston_house_prices.csv: SHA-256"):
        load_boston_housing()
