"""PyWpsServer: a real PyWPS 4 behind the account gateway, and the product file server."""
from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional

from pywps import Service  # type: ignore[import-untyped]
from werkzeug.middleware.shared_data import SharedDataMiddleware

from ..ogcapi.config import OgcApiConfig
from ..ogcapi.gateway import Gateway
from ..ogcapi.gatewayed import STOP_JOIN_SECONDS, GatewayedServer
from .config import PyWpsConfig
from .processes import full_maja_process, processing_status_process

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


class PyWpsServer(GatewayedServer):
    """A real PyWPS 4 serving FULL_MAJA and PROCESSING_STATUS, for the client's tests."""

    work_prefix = "full-maja-pywps-"
    settings_name = "settings.json"
    thread_name = "pywps"
    config: PyWpsConfig

    def __init__(self, config: Optional[PyWpsConfig] = None) -> None:
        """Prepare a server; start() (or `with`) makes it listen."""
        config = config if config is not None else PyWpsConfig()
        super().__init__(config, Gateway(OgcApiConfig(user=config.user,
                                                      password=config.password,
                                                      api_key=None, prefix="")))

    @property
    def url(self) -> str:
        """The WPS endpoint, e.g. http://127.0.0.1:8080/wps."""
        return self.root_url + WPS_PATH

    @property
    def outputs_dir(self) -> Path:
        """PyWPS's outputpath: status documents `<uuid>.xml` and `<uuid>/report.json`."""
        return self.work_dir / "outputs"

    def start(self) -> PyWpsServer:
        """Listen and serve; one PyWPS per process (it keeps its configuration global)."""
        if self._api is not None:
            return self
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("another PyWpsServer runs in this process: PyWPS keeps its "
                               "configuration in a global, so stop it first")
        try:
            return super().start()
        except BaseException:
            self._api = self._files = None
            _ACTIVE.release()
            raise

    def stop(self) -> None:
        """Wait for PyWPS's job processes, stop both servers, drop the temporary folder."""
        if self._api is None:
            return
        try:
            super().stop()
        finally:
            _ACTIVE.release()

    def _make_app(self) -> Any:
        for name in ("outputs", "tmp", "jobs"):
            (self.work_dir / name).mkdir(parents=True, exist_ok=True)
        settings = str(self._settings_path())
        cfg = self.work_dir / "pywps.cfg"
        cfg.write_text(pywps_config_text(self.url, self.work_dir, self.config.parallel))
        service = Service([full_maja_process(settings), processing_status_process(settings)],
                          [str(cfg)])
        return Dispatcher(service, self.outputs_dir)

    def _job_settings(self) -> dict[str, str]:
        return {"jobs_dir": str(self.work_dir / "jobs"), "outputs_dir": str(self.outputs_dir)}

    def _join_jobs(self) -> None:
        deadline = time.monotonic() + STOP_JOIN_SECONDS
        for child in multiprocessing.active_children():  # PyWPS's forked jobs
            child.join(max(0.0, deadline - time.monotonic()))
