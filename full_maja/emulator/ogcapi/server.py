"""OgcApiServer: pygeoapi behind the account gateway, and the product file server."""
from __future__ import annotations

import dataclasses
import json
import shutil
import socketserver
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, List, Optional, Type

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..serving import url_host
from .app import flask_app, pygeoapi_config, write_documents
from .config import OgcApiConfig
from .files import FileRequest, FileServer
from .gateway import Gateway, GatewayRecord
from .process import forget_link, link_for

STOP_JOIN_SECONDS = 5.0
POLL_SECONDS = 0.05


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its per-request log line."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """The gateway records requests; print nothing."""


class GatewayServer(ThreadedWSGIServer):
    """Werkzeug's threaded WSGI server, bound without a reverse DNS look-up."""

    def server_bind(self) -> None:
        """Bind, and take the name and port without asking the resolver."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class OgcApiServer:
    """A real pygeoapi serving FULL_MAJA, for the client's tests and demo."""

    def __init__(self, config: Optional[OgcApiConfig] = None) -> None:
        """Prepare a server; start() (or `with`) makes it listen."""
        self.config = config if config is not None else OgcApiConfig()
        self.gateway = Gateway(self.config)
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
        """The API's landing page, e.g. http://127.0.0.1:8080/ogcapi."""
        return self.root_url + self.config.prefix

    @property
    def products_url(self) -> str:
        """The product file server's root, another origin than the API."""
        if self._files is None:
            raise RuntimeError("the server is not started")
        return f"http://{url_host(self.config.host)}:{self._files.server_port}"

    @property
    def work_dir(self) -> Path:
        """Where the config, the job database, the outputs and the products live."""
        if self._work is None:
            raise RuntimeError("the server is not started")
        return self._work

    @property
    def products_dir(self) -> Path:
        """The folder the product server serves: one sub-folder per job."""
        return self.work_dir / "products"

    @property
    def requests(self) -> List[GatewayRecord]:
        """Every request the API gateway saw, in arrival order."""
        return self.gateway.records

    @property
    def product_requests(self) -> List[FileRequest]:
        """Every request the product server saw, in arrival order."""
        return self._files.requests if self._files is not None else []

    @property
    def running_jobs(self) -> int:
        """How many job worker threads are running now (a dismissed job's stops soon)."""
        if self._work is None:
            return 0
        return link_for(str(self._settings_path())).running()

    def clear_requests(self) -> None:
        """Forget the requests recorded so far, on both servers."""
        self.gateway.clear()
        if self._files is not None:
            self._files.requests.clear()

    def configure(self, **changes: Any) -> None:
        """Change job settings (report_form, run_seconds, fail...) for the next jobs."""
        checked = dataclasses.replace(self.config, **changes)
        for name in changes:
            setattr(self.config, name, getattr(checked, name))
        if self._work is not None:
            self._write_settings()

    def start(self) -> OgcApiServer:
        """Listen on both ports and serve in daemon threads; returns self."""
        if self._api is not None:
            return self
        began = time.monotonic()
        self._work = self._make_work_dir()
        self.products_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "outputs").mkdir(exist_ok=True)
        self._files = FileServer((self.config.host, self.config.products_port),
                                 self.products_dir, self.config.api_key_header)
        self._api = GatewayServer(self.config.host, self.config.port, self.gateway,
                                  handler=QuietHandler)
        self._write_settings()
        config = pygeoapi_config(self.url, self.work_dir, self._settings_path(),
                                 self.config.verbose)
        self.gateway.app = flask_app(write_documents(config, self.work_dir))
        self._serve(self._files, "ogcapi-products")
        self._serve(self._api, "ogcapi-gateway")
        self.startup_seconds = time.monotonic() - began
        return self

    def _make_work_dir(self) -> Path:
        """The configured work folder, or a fresh temporary one."""
        if self.config.work_dir is not None:
            path = Path(self.config.work_dir)
            path.mkdir(parents=True, exist_ok=True)
            return path
        self._own_work = True
        return Path(tempfile.mkdtemp(prefix="full-maja-ogcapi-"))

    def _settings_path(self) -> Path:
        """The JSON file the process plugin reads at each job."""
        return self.work_dir / "process-settings.json"

    def _write_settings(self) -> None:
        """Write the job settings, with the paths and URLs the plugin needs."""
        settings = {**self.config.job_settings(), "db": str(self.work_dir / "jobs.db"),
                    "output_dir": str(self.work_dir / "outputs"),
                    "products_dir": str(self.products_dir), "products_url": self.products_url}
        partial = self._settings_path().with_suffix(".part")
        partial.write_text(json.dumps(settings, indent=2))
        partial.replace(self._settings_path())

    def _serve(self, server: Any, name: str) -> None:
        """Run a server's loop in a daemon thread."""
        thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,),
                                  name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop running jobs and both servers, then drop the temporary folder."""
        api, files, self._api, self._files = self._api, self._files, None, None
        if api is None or files is None:
            return
        settings = str(self._settings_path())
        link_for(settings).join(STOP_JOIN_SECONDS)
        forget_link(settings)
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

    def __enter__(self) -> OgcApiServer:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        """Stop on leaving it."""
        self.stop()

