"""Review c: failing tests of defects found in the changes since c3e528f."""
from __future__ import annotations

import logging
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_stac import NAMES, documents, folder_of

from full_maja.download.verified import VerifiedRecord
from full_maja.provenance import Provenance
from full_maja.stac import write_catalogue
from full_maja.stac.versions import superseded

OLD, NEW = NAMES[0], NAMES[0].replace("_V2-2", "_V2-3")
WHEN = datetime(2019, 3, 1, 8, 37, 51, 1000, tzinfo=timezone.utc)


def test_the_metadata_tile_and_the_name_tile_are_one_acquisition() -> None:
    """GEOGRAPHICAL_ZONE gives `T31TCJ`, a name `31TCJ`: one tile, so one acquisition."""
    products = [(OLD, Provenance(tile="T31TCJ", acquisition_date=WHEN, product_version="2.2")),
                (NEW, Provenance(acquisition_date=WHEN, product_version="2.3"))]
    assert superseded(products) == {OLD}


def test_a_version_without_metadata_beside_one_with_is_warned_about(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """README: versions nothing tells apart all keep their Item 'and the run warns naming
    them'. The older zip has no readable MTD (no version, no date): the newer one's tile
    comes from its MTD (`T31TCJ`), the older's from its name (`31TCJ`), so they are taken
    for two acquisitions and nothing is said."""
    folder = folder_of(tmp_path, [NEW], all_bands=False)
    path = folder / OLD
    with zipfile.ZipFile(path, "w") as archive:  # a product whose MTD is not there
        archive.writestr(OLD[:-4] + "/README.txt", "no metadata")
    record = VerifiedRecord(folder)
    record.remember(OLD, path)
    assert record.flush()
    with caplog.at_level(logging.WARNING):
        write_catalogue(folder)
    assert sorted(item["id"] for item in documents(folder)[1]) == sorted([OLD[:-4], NEW[:-4]])
    assert "nothing telling which is the latest" in caplog.text


def test_the_names_client_py_exported_still_import_from_it() -> None:
    """c3e528f's full_maja/client.py listed these in its `__all__`; the move of the
    endpoints to endpoints.py was to change no behaviour."""
    import full_maja.client as client

    for name in ("DEFAULT_CATALOGUE", "DEFAULT_ENDPOINT", "resolve_catalogue",
                 "resolve_endpoint"):
        assert hasattr(client, name), name
