"""Pilot files: YAML and CSV, every problem reported at once."""

from __future__ import annotations

import pytest

from cxroi.errors import DataError
from cxroi.fit.pilots import Pilot, load_pilots

SEGMENTS = ["SMB-EU", "Enterprise-EU"]


def test_yaml_and_csv_give_the_same_pilots(tmp_path, catalogue) -> None:
    (tmp_path / "p.yaml").write_text(
        "pilots:\n  - {initiative: self_service_portal, segment: SMB-EU, metric: CSAT, lift: 4, se: 1}\n")
    (tmp_path / "p.csv").write_text("initiative,segment,metric,lift,se\nself_service_portal,SMB-EU,csat,4,1\n")
    expected = [Pilot("self_service_portal", "SMB-EU", "csat", 4.0, 1.0)]
    assert load_pilots(tmp_path / "p.yaml", catalogue, SEGMENTS) == expected
    assert load_pilots(tmp_path / "p.csv", catalogue, SEGMENTS) == expected


def test_every_problem_is_named(tmp_path, catalogue) -> None:
    (tmp_path / "p.csv").write_text(
        "initiative,segment,metric,lift,se\n"
        "teleport,SMB-EU,csat,4,1\n"
        "self_service_portal,Mars,churn,4,0\n"
        "self_service_portal,SMB-EU,nps,,1\n")
    with pytest.raises(DataError) as err:
        load_pilots(tmp_path / "p.csv", catalogue, SEGMENTS)
    message = str(err.value)
    for part in ("row 1: initiative 'teleport'", "row 2: segment 'Mars'", "metric must be csat or nps",
                 "row 2: se must be > 0", "row 3: missing lift"):
        assert part in message


def test_missing_and_unsupported_files(tmp_path, catalogue) -> None:
    with pytest.raises(DataError, match="not found"):
        load_pilots(tmp_path / "none.yaml", catalogue, SEGMENTS)
    (tmp_path / "p.txt").write_text("x")
    with pytest.raises(DataError, match=r"\.yaml, \.yml or \.csv"):
        load_pilots(tmp_path / "p.txt", catalogue, SEGMENTS)
