"""Issue 12, class 8: a full disk anywhere is one clear line; the rest goes on, exit 1."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from conftest import PASSWORD

import full_maja.download.transfer as transfer_module
import full_maja.download.verified as verified_module
import full_maja.page.write as page_module
from emulators.acquisitions import many_products
from full_maja import atomic

NAMES = many_products("36TWQ", 6)


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def full_memory(path, data, **options):
    if str(path).endswith(".state.json"):
        no_space()
    return atomic.atomic_write(path, data, **options)


def full_part(self, response, segment, handle, *args, **kwargs):
    if self.name == NAMES[0]:
        no_space()
    return real_write_pieces(self, response, segment, handle, *args, **kwargs)


real_write_pieces = transfer_module.ProductTransfer._write_pieces
WHERE = {"verified record": (verified_module, "atomic_write", no_space, len(NAMES)),
         "remembered state": (atomic, "atomic_write", full_memory, len(NAMES)),
         "series page": (page_module, "atomic_write", no_space, len(NAMES)),
         "part file": (transfer_module.ProductTransfer, "_write_pieces", full_part,
                       len(NAMES) - 1)}


@pytest.mark.parametrize("where", list(WHERE))
def test_a_full_disk_is_one_line_and_the_other_products_go_on(cli, make_emulator, auth_file,
                                                              tmp_path, monkeypatch, where):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"], products=NAMES,
                             product_size=16 * 1024, products_dir=tmp_path / "cache")
    submitted = cli("process", "-a", auth_file, "-t", "36TWQ", "-d", "2019-03-01",
                    "-f", "2019-05-01", "--url", emulator.url, "-l", "job.log")
    assert submitted.returncode == 0, submitted.stderr
    module, attribute, replacement, landed = WHERE[where]
    if where == "remembered state":
        monkeypatch.setattr("full_maja.jobmemory.atomic_write", replacement)
    else:
        monkeypatch.setattr(module, attribute, replacement)
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-j", "2")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert "No space left" in errors[0] or "disk is full" in errors[0]
    assert "Summary:" in result.stdout
    assert len(list(Path("out").glob("*.zip"))) == landed
    assert PASSWORD not in result.stdout + result.stderr
    assert json.loads(Path("job.log").read_text())["jobs"]
