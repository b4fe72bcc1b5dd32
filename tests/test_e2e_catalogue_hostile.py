"""End to end: the catalogue flow against a hostile STAC catalogue (conftest's `hostile`
server answering searches and downloads as a test tells it), by the real commands."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from conftest import API_KEY, PASSWORD, USER, assert_one_line_error

from emulators.products import ProductStore

LOG = "cat.log"
PERIOD = ("-t", "31TCJ", "-o", "51", "-d", "2023-01-01", "-f", "2023-02-28")


def zip_name(day: int) -> str:
    return f"SENTINEL2A_202301{day:02d}-105907-758_L2A_T31TCJ_C_V4-0.zip"


class Catalogue:
    """A STAC catalogue as hostile as a test makes it: `items` listed by `POST /search`,
    page by number (or as `pages` answers), zips served at `GET /files/NAME` to the key."""

    def __init__(self, hostile: Callable, store: ProductStore) -> None:
        self.store = store
        self.items: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.pages: Optional[Callable[[dict, int], dict]] = None
        self.requests: list[tuple[str, str, Optional[str], Any]] = []
        self.refuse_wrong_keys = False
        self.url, self.headers = hostile(self._answer)

    def zip_bytes(self, name: str) -> bytes:
        """A real product zip of that name (built once per module)."""
        return self.store.zip_path(name, 16 * 1024).read_bytes()

    def add(self, name: str, day: int, data: Optional[bytes] = None, *,
            title: Optional[str] = None, description: Optional[str] = None) -> dict[str, Any]:
        """List a product acquired on 2023-01-`day`, its zip served as `data`."""
        data = self.zip_bytes(name) if data is None else data
        self.files[name] = data
        item = self.item(name, day, data, title, description)
        self.items.append(item)
        return item

    def item(self, name: str, day: int, data: bytes, title: Optional[str] = None,
             description: Optional[str] = None) -> dict[str, Any]:
        """The STAC item of a product acquired on 2023-01-`day` whose zip is `data`."""
        moment = f"2023-01-{day:02d}T10:59:07.758Z"
        text = description if description is not None else (
            f"File size: {len(data)} bytes\n\nIs online: true\n\n"
            f"Checksum MD5: {hashlib.md5(data).hexdigest()}")
        title = title or name
        return {"type": "Feature", "id": f"URN:FEATURE:DATA:gdh:{name}:V1",
                "properties": {"identifier": name.rsplit("_V", 1)[0], "version": "4.0",
                               "grid:code": "T31TCJ", "sat:relative_orbit": 51,
                               "eo:cloud_cover": 10, "start_datetime": moment,
                               "end_datetime": moment},
                "assets": {title: {"href": f"{self.url}/files/{name}", "title": title,
                                   "type": "application/zip", "roles": ["data"],
                                   "description": text}}}

    def searches(self) -> list[Any]:
        return [body for method, _, _, body in self.requests if method == "POST"]

    def downloads(self) -> list[str]:
        return [path for method, path, _, _ in self.requests if method == "GET"]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = None
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            body = json.loads(handler.rfile.read(length) or b"{}")
        key = handler.headers.get("X-API-Key")
        self.requests.append((handler.command, handler.path, key, body))
        if self.refuse_wrong_keys and key not in (None, API_KEY):
            return _send(handler, 403, b'{"code": "Forbidden"}')
        if handler.command == "POST":
            number = int(body.get("page", 1))
            document = self.pages(body, number) if self.pages else self._page(number, 80)
            return _send(handler, 200, json.dumps(document).encode(), "application/geo+json")
        if handler.path in self.redirects:
            return _send(handler, 302, b"", headers={"Location": self.redirects[handler.path]})
        name = handler.path.rsplit("/", 1)[-1]
        if key != API_KEY and not handler.path.startswith("/plain/"):  # storage: no key
            return _send(handler, 401, b"{}")
        if name not in self.files:
            return _send(handler, 404, b"{}")
        return _send(handler, 200, self.files[name], "application/zip")

    def _page(self, number: int, limit: int) -> dict[str, Any]:
        features = self.items[(number - 1) * limit:number * limit]
        return {"type": "FeatureCollection", "features": features,
                "context": {"matched": len(self.items), "limit": limit,
                            "returned": len(features)}}


def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes,
          kind: str = "application/json", headers: Optional[dict[str, str]] = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def catalogue(hostile: Callable, product_cache: Path) -> Catalogue:
    return Catalogue(hostile, ProductStore(product_cache))


def search(cli: Any, catalogue: Catalogue, *extra: object, env: Optional[dict] = None) -> Any:
    result = cli("process", "--source", "catalogue", "--catalogue-url", catalogue.url,
                 *PERIOD, "-l", LOG, *extra, env=env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def download(cli: Any, key_file: Path, *extra: object, env: Optional[dict] = None) -> Any:
    return cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, *extra,
               env=env)


def with_metadata(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The zip `data` with its `_MTD_ALL.xml` changed by `change`."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            archive.writestr(info, change(content) if info.filename.endswith("_MTD_ALL.xml")
                             else content)
    return out.getvalue()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_a_product_whose_metadata_dates_no_utc_time_holds_is_reported_not_a_crash(
        cli, catalogue, key_file, moment):
    odd = zip_name(5)
    catalogue.add(odd, 5, with_metadata(catalogue.zip_bytes(odd), lambda xml: re.sub(
        rb"<(ACQUISITION|PRODUCTION)_DATE>[^<]*", rb"<\1_DATE>" + moment.encode(), xml)))
    catalogue.add(zip_name(10), 10)
    search(cli, catalogue)
    result = download(cli, key_file, "--json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    products = {p["name"]: p for p in json.loads(result.stdout)["jobs"][0]["products"]}
    assert products[odd]["production_date"] is None
    assert products[zip_name(10)]["production_date"]
    items = sorted(path.name for path in Path("out", "stac-items").iterdir())
    assert items == [name[:-4] + ".json" for name in (odd, zip_name(10))]
    assert json.loads(Path("out", "stac-items", items[0]).read_text())["properties"][
        "datetime"] == "2023-01-05T10:59:07.758000Z", "the acquisition time of the name"


def test_a_title_echoing_the_api_key_is_refused_and_no_file_is_named_after_it(
        cli, catalogue, key_file, tmp_path):
    catalogue.add(zip_name(5), 5)
    echoed = catalogue.add(zip_name(10), 10)
    search(cli, catalogue)
    title = f"SENTINEL2A_{API_KEY}_20230110.zip"  # the key the download run's search sent
    echoed["assets"] = {title: {**echoed["assets"][zip_name(10)], "title": title}}
    result = download(cli, key_file, "--refresh")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "holds the API key or password" in result.stderr
    assert zip_name(5) in [path.name for path in Path("out").iterdir()]
    assert not [path for path in tmp_path.rglob("*") if API_KEY in path.name]
    assert API_KEY not in result.stdout + result.stderr


def test_a_download_redirected_to_plain_http_on_another_machine_is_refused_unless_asked(
        cli, catalogue, key_file):
    for day in (5, 10):
        catalogue.add(zip_name(day), day)
    port = catalogue.url.rsplit(":", 1)[1]
    # 0.0.0.0 is not a loopback address, yet reaches this machine: the server would see it
    catalogue.redirects[f"/files/{zip_name(5)}"] = f"http://0.0.0.0:{port}/plain/{zip_name(5)}"
    search(cli, catalogue)
    refused = download(cli, key_file)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    assert "redirected to a URL full-maja does not follow (refusing plain http to 0.0.0.0; " \
           "--insecure-http accepts it)" in refused.stderr
    assert not any(path.startswith("/plain/") for path in catalogue.downloads())
    assert sorted(path.name for path in Path("out").glob("*.zip")) == [zip_name(10)]
    accepted = download(cli, key_file, "--insecure-http")
    assert accepted.returncode == 0, (accepted.stdout, accepted.stderr)
    [(_, _, key, _)] = [r for r in catalogue.requests if r[1].startswith("/plain/")]
    assert key is None and Path("out", zip_name(5)).is_file()


def acquisitions(count: int) -> list[str]:
    """`count` product names of January 2023, four a day."""
    return [f"SENTINEL2A_202301{1 + index // 4:02d}-10{index % 4:02d}07-758_L2A_T31TCJ_C_V4-0.zip"
            for index in range(count)]


def listing(catalogue: Catalogue, count: int) -> list[dict[str, Any]]:
    return [catalogue.item(name, 1 + index // 4, b"PK")
            for index, name in enumerate(acquisitions(count))]


def test_a_catalogue_capping_its_pages_without_saying_so_is_read_to_its_last_item(
        cli, catalogue):
    features = listing(catalogue, 120)
    catalogue.pages = lambda body, number: {  # 50 a page, whatever the limit asked
        "features": features[(number - 1) * 50:number * 50], "context": {"matched": 120}}
    result = search(cli, catalogue)
    assert "Found 120 products over 30 dates" in result.stdout
    assert [body["page"] for body in catalogue.searches()] == [1, 2, 3]


def test_a_catalogue_that_ignores_the_page_number_is_one_line_not_125_requests(
        cli, catalogue):
    features = listing(catalogue, 80)
    catalogue.pages = lambda body, number: {"features": features,
                                            "context": {"matched": 1_000_000}}
    result = cli("process", "--source", "catalogue", "--catalogue-url", catalogue.url,
                 *PERIOD, "-l", LOG)
    assert_one_line_error(result, 1, "page 2", "lists only items of earlier pages",
                          "80 read of the 1000000", "--catalogue-url")
    assert len(catalogue.searches()) == 2 and not Path(LOG).exists()


def test_a_last_page_repeated_where_the_catalogue_says_no_count_ends_the_search(
        cli, catalogue):
    features = listing(catalogue, 80)
    catalogue.pages = lambda body, number: {"features": features}
    result = search(cli, catalogue)
    assert "Found 80 products over 20 dates" in result.stdout
    assert len(catalogue.searches()) == 2


def deflated(data: bytes) -> bytes:
    """The zip `data` with every member deflated, as MUSCATE's zips are."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    return out.getvalue()


def damage_in_place(path: Path, how: str) -> None:
    """Spoil the biggest member's data as a disk would, keeping the size and time."""
    with zipfile.ZipFile(path) as archive:
        member = max(archive.infolist(), key=lambda info: info.compress_size)
    data = bytearray(path.read_bytes())
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    if how == "deflate":
        data[start:start + 2] = b"\xff\xff"  # an invalid block type: zlib.error
    else:
        data[start + member.compress_size // 2] ^= 0xFF  # a bad CRC
    before = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("how", ["deflate", "crc"])
def test_a_verified_zip_damaged_on_disk_since_is_fetched_again_when_extracted(
        cli, catalogue, key_file, how):
    for day in (5, 10):
        name = zip_name(day)
        catalogue.add(name, day, deflated(catalogue.zip_bytes(name)) if how == "deflate"
                      else None)
    search(cli, catalogue)
    assert download(cli, key_file).returncode == 0
    damaged = Path("out", zip_name(5))
    damage_in_place(damaged, how)
    result = download(cli, key_file, "-x", "--keep-zip")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "its zip is damaged" in result.stderr and "fetching it again" in result.stderr
    assert catalogue.downloads().count(f"/files/{zip_name(5)}") == 2
    assert damaged.read_bytes() == catalogue.files[zip_name(5)]
    assert all(Path("out", zip_name(day)[:-4]).is_dir() for day in (5, 10))


def test_a_key_file_saved_with_a_byte_order_mark_downloads(cli, catalogue, tmp_path):
    catalogue.add(zip_name(5), 5)
    search(cli, catalogue)
    key = tmp_path / "notepad.key"
    key.write_bytes(b"\xef\xbb\xbf" + API_KEY.encode() + b"\r\n")
    key.chmod(0o600)
    result = download(cli, key)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert [key for _, path, key, _ in catalogue.requests if path.startswith("/files/")] == \
        [API_KEY]


def test_a_search_refused_for_a_wrong_key_is_the_keys_refusal_exit_3(cli, catalogue,
                                                                     tmp_path):
    catalogue.add(zip_name(5), 5)
    search(cli, catalogue)
    catalogue.refuse_wrong_keys = True  # as a portal checking any key it is given
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not-the-key-at-all\n")
    wrong.chmod(0o600)
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", wrong)
    assert_one_line_error(result, 3, "refused the API key", "check the key")
    assert not catalogue.downloads()


def test_the_e_mail_and_password_never_go_to_a_catalogue(cli, catalogue, key_file,
                                                         auth_file, isolated_env):
    catalogue.add(zip_name(5), 5)
    (isolated_env / ".netrc").write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    (isolated_env / ".netrc").chmod(0o600)
    account = {"PEPS_USER": USER, "PEPS_PASSWORD": PASSWORD}
    search(cli, catalogue, env=account)
    assert cli("download", "--status", "-l", LOG, "-w", "out", env=account).returncode == 75
    given = download(cli, key_file, "-a", auth_file)
    assert given.returncode == 0, (given.stdout, given.stderr)
    assert "are not sent to a catalogue" in given.stderr
    assert download(cli, key_file, "--refresh", env=account).returncode == 0
    assert len(catalogue.searches()) == 4 and catalogue.downloads()
    assert not [headers for headers in catalogue.headers if "Authorization" in headers]


def test_submit_says_which_items_it_left_out_and_what_the_catalogue_did_not_list(
        cli, catalogue):
    features = listing(catalogue, 3)
    catalogue.pages = lambda body, number: {
        "features": [7, {"properties": {}}, *features] if number == 1 else [],
        "context": {"matched": 9}}
    result = search(cli, catalogue)
    assert "Found 3 products over 1 dates" in result.stdout
    assert "Note: the catalogue matched 9 items but listed 5; 2 item(s) left out: an item " \
           "without properties" in result.stdout
