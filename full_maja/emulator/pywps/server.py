"""PyWpsServer: a real PyWPS 4 behind the account gateway, and the product file server."""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Dict, Iterable, List, Optional, Type

from pywps import Service  # type: ignore[import-untyped]
from werkzeug.middleware.shared_data import SharedDataMiddleware

from ..ogcapi.config import OgcApiConfig
from ..ogcapi.files import FileRequest, FileServer
from ..ogcapi.gateway import Gateway, GatewayRecord
from ..ogcapi.server import GatewayServer, QuietHandler
from ..serving import url_host
from .config import PyWpsConfig
from .processes import full_maja_process, processing_status_process

STOP_JOIN_SECONDS = 5.0
POLL_SECONDS = 0.05
WPS_PATH = "/wps"
OUTPUTS_PATH = WPS_PATH + "/outputs"
_ACTIVE = threading.Lock()  # PyWPS keeps its configuration in one global: one server at a time

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]


def pywps_config_text(url: str, work: Path, parallel: int) -> str:
    """PyWPS's configuration file: every folder and the database in the work folder."""
    return "\n".join([
        "[server]",
        f"url = {url}",
        f"outputurl = {url}/outputs",
        f"outputpath = {work / 'outputs'}",
        f"workdir = {work / 'tmp'}",
        f"temp_path = {work / 'tmp'}",
        f"parallelprocesses = {parallel}",
        "maxprocesses = 30",
        "cleantempdir = true",
        "storagetype = file",
        "",
        "[processing]",
        "mode = default",
        "",
        "[logging]",
        "level = WARNING",
        f"file = {work / 'pywps.log'}",
        f"database = sqlite:///{work / 'pywps-logs.sqlite'}",
        "",
    ])


class Dispatcher:
    """The WSGI app behind the gateway: PyWPS at /wps, its stored files at /wps/outputs."""

    def __init__(self, service: Any, outputs: Path) -> None:
        """Serve PyWPS and the files it writes (status documents, reports)."""
        self.service = service
        self.files = SharedDataMiddleware(self._not_found, {OUTPUTS_PATH: str(outputs)},
                                          cache=False)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(OUTPUTS_PATH + "/"):
            return self.files(environ, start_response)
        if path.rstrip("/") == WPS_PATH:
            result: Iterable[bytes] = self.service(environ, start_response)
            return result
        return self._not_found(environ, start_response)

    @staticmethod
    def _not_found(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = b"404 Not Found\n"
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]


class PyWpsServer:
    """A real PyWPS 4 serving FULL_MAJA and PROCESSING_STATUS, for the client's tests."""

    def __init__(self, config: Optional[PyWpsConfig] = None) -> None:
        """Prepare a server; start() (or `with`) makes it listen."""
        self.config = config if config is not None else PyWpsConfig()
        self.gateway = Gateway(OgcApiConfig(user=self.config.user, password=self.config.password,
                                            api_key=None, prefix=""))
        self.startup_seconds = 0.0
        self._api: Optional[GatewayServer] = None
        self._files: Optional[FileServer] = None
        self._threads: List[threading.Thread] = []
        self._work: Optional[Path] = None
        self._own_work = False

    @property
    def root_url(self) -> str:
        """The gateway's origin, e.g. http://127.0.0.1:8080."""
        if self._api is None:
            raise RuntimeError("the server is not started")
        return f"http://{url_host(self.config.host)}:{self._api.server_port}"

    @property
    def url(self) -> str:
        """The WPS endpoint, e.g. http://127.0.0.1:8080/wps."""
        return self.root_url + WPS_PATH

    @property
    def products_url(self) -> str:
        """The product file server's root, another origin than the WPS."""
        if self._files is None:
            raise RuntimeError("the server is not started")
        return f"http://{url_host(self.config.host)}:{self._files.server_port}"

    @property
    def work_dir(self) -> Path:
        """Where PyWPS's config, database, outputs and the products live."""
        if self._work is None:
            raise RuntimeError("the server is not started")
        return self._work

    @property
    def outputs_dir(self) -> Path:
        """PyWPS's outputpath: status documents `<uuid>.xml` and `<uuid>/report.json`."""
        return self.work_dir / "outputs"

    @property
    def products_dir(self) -> Path:
        """The folder the product server serves: one sub-folder per job."""
        return self.work_dir / "products"

    @property
    def requests(self) -> List[GatewayRecord]:
        """Every request the WPS gateway saw, in arrival order."""
        return self.gateway.records

    @property
    def product_requests(self) -> List[FileRequest]:
        """Every request the product server saw, in arrival order."""
        return self._files.requests if self._files is not None else []

    def clear_requests(self) -> None:
        """Forget the requests recorded so far, on both servers."""
        self.gateway.clear()
        if self._files is not None:
            self._files.requests.clear()

    def start(self) -> PyWpsServer:
        """Listen on both ports and serve in daemon threads; returns self."""
        if self._api is not None:
            return self
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("another PyWpsServer runs in this process: PyWPS keeps its "
                               "configuration in a global, so stop it first")
        try:
            self._start()
        except BaseException:
            self._api = self._files = None
            _ACTIVE.release()
            raise
        return self

    def _start(self) -> None:
        began = time.monotonic()
        self._work = self._make_work_dir()
        for name in ("outputs", "tmp", "jobs", "products"):
            (self.work_dir / name).mkdir(parents=True, exist_ok=True)
        self._files = FileServer((self.config.host, self.config.products_port),
                                 self.products_dir, "X-API-Key")
        self._api = GatewayServer(self.config.host, self.config.port, self.gateway,
                                  handler=QuietHandler)
        settings = self._settings_path()
        self._write_settings()
        cfg = self.work_dir / "pywps.cfg"
        cfg.write_text(pywps_config_text(self.url, self.work_dir, self.config.parallel))
        service = Service([full_maja_process(str(settings)),
                           processing_status_process(str(settings))], [str(cfg)])
        self.gateway.app = Dispatcher(service, self.outputs_dir)
        self._serve(self._files, "pywps-products")
        self._serve(self._api, "pywps-gateway")
        self.startup_seconds = time.monotonic() - began

    def configure(self, **changes: Any) -> None:
        """Change job settings (register_seconds, run_seconds, fail...) for the next runs."""
        checked = dataclasses.replace(self.config, **changes)
        for name in changes:
            setattr(self.config, name, getattr(checked, name))
        if self._work is not None:
            self._write_settings()

    def _settings_path(self) -> Path:
        """The JSON file both processes read at each run."""
        return self.work_dir / "settings.json"

    def _write_settings(self) -> None:
        settings = {**self.config.job_settings(), "jobs_dir": str(self.work_dir / "jobs"),
                    "outputs_dir": str(self.outputs_dir), "products_dir": str(self.products_dir),
                    "products_url": self.products_url}
        partial = self._settings_path().with_suffix(".part")
        partial.write_text(json.dumps(settings, indent=2))
        partial.replace(self._settings_path())

    def _make_work_dir(self) -> Path:
        if self.config.work_dir is not None:
            path = Path(self.config.work_dir)
            path.mkdir(parents=True, exist_ok=True)
            return path
        self._own_work = True
        return Path(tempfile.mkdtemp(prefix="full-maja-pywps-"))

    def _serve(self, server: Any, name: str) -> None:
        thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,),
                                  name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Wait for PyWPS's job processes, stop both servers, drop the temporary folder."""
        api, files, self._api, self._files = self._api, self._files, None, None
        if api is None or files is None:
            return
        try:
            deadline = time.monotonic() + STOP_JOIN_SECONDS
            for child in multiprocessing.active_children():  # PyWPS's forked jobs
                child.join(max(0.0, deadline - time.monotonic()))
            files.stopping.set()
            for server in (api, files):
                server.shutdown()
                server.server_close()
            for thread in self._threads:
                thread.join(STOP_JOIN_SECONDS)
            self._threads.clear()
            if self._own_work and self._work is not None:
                shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
        finally:
            _ACTIVE.release()

    def __enter__(self) -> PyWpsServer:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        """Stop on leaving it."""
        self.stop()
