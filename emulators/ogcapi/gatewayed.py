"""What the real third-party servers of the tests share: an account gateway, a product
file server on another origin, a work folder, settings the processes read, a lifecycle."""
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
from typing import Any, List, Optional, Type, TypeVar

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..serving import url_host
from .files import FileRequest, FileServer
from .gateway import Gateway, GatewayRecord

STOP_JOIN_SECONDS = 5.0
POLL_SECONDS = 0.05
Self = TypeVar("Self", bound="GatewayedServer")


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


class GatewayedServer:
    """A server behind the account gateway, with its products served from another origin.

    Subclasses build their WSGI app (`_start_app`), say what their job processes must
    know (`_job_settings`) and how to wait for them (`_join_jobs`).
    """

    work_prefix = "full-maja-server-"
    settings_name = "settings.json"
    thread_name = "server"

    def __init__(self, config: Any, gateway: Gateway) -> None:
        """Prepare a server; start() (or `with`) makes it listen."""
        self.config = config
        self.gateway = gateway
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
    def products_url(self) -> str:
        """The product file server's root, another origin than the gateway's."""
        if self._files is None:
            raise RuntimeError("the server is not started")
        return f"http://{url_host(self.config.host)}:{self._files.server_port}"

    @property
    def work_dir(self) -> Path:
        """Where the configuration, the job records, the outputs and the products live."""
        if self._work is None:
            raise RuntimeError("the server is not started")
        return self._work

    @property
    def products_dir(self) -> Path:
        """The folder the product server serves: one sub-folder per job."""
        return self.work_dir / "products"

    @property
    def requests(self) -> List[GatewayRecord]:
        """Every request the gateway saw, in arrival order."""
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

    def configure(self, **changes: Any) -> None:
        """Change job settings for the next jobs (checked before anything changes)."""
        checked = dataclasses.replace(self.config, **changes)
        for name in changes:
            setattr(self.config, name, getattr(checked, name))
        if self._work is not None:
            self._write_settings()

    def start(self: Self) -> Self:
        """Listen on both ports and serve in daemon threads; returns self."""
        if self._api is not None:
            return self
        began = time.monotonic()
        self._listen(self._key_header())
        self._write_settings()
        self.gateway.app = self._make_app()
        self._serve_both(self.thread_name)
        self.startup_seconds = time.monotonic() - began
        return self

    def _key_header(self) -> str:
        """The header an API key would come in (the product server notes it)."""
        return "X-API-Key"

    def _make_app(self) -> Any:
        """The WSGI app behind the gateway."""
        raise NotImplementedError

    def _listen(self, key_header: str) -> None:
        """Make the work folder and open both ports (not serving yet)."""
        self._work = self._make_work_dir()
        self.products_dir.mkdir(parents=True, exist_ok=True)
        self._files = FileServer((self.config.host, self.config.products_port),
                                 self.products_dir, key_header)
        self._api = GatewayServer(self.config.host, self.config.port, self.gateway,
                                  handler=QuietHandler)

    def _serve_both(self, name: str) -> None:
        """Run both servers' loops in daemon threads."""
        for server, role in ((self._files, "products"), (self._api, "gateway")):
            thread = threading.Thread(target=server.serve_forever,  # type: ignore[union-attr]
                                      args=(POLL_SECONDS,), name=f"{name}-{role}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _make_work_dir(self) -> Path:
        """The configured work folder, or a fresh temporary one."""
        if self.config.work_dir is not None:
            path = Path(self.config.work_dir)
            path.mkdir(parents=True, exist_ok=True)
            return path
        self._own_work = True
        return Path(tempfile.mkdtemp(prefix=self.work_prefix))

    def _settings_path(self) -> Path:
        """The JSON file the job processes read at each job."""
        return self.work_dir / self.settings_name

    def _write_settings(self) -> None:
        """Write the job settings atomically, with the paths and URLs the processes need."""
        settings = {**self.config.job_settings(), **self._job_settings(),
                    "products_dir": str(self.products_dir), "products_url": self.products_url}
        partial = self._settings_path().with_suffix(".part")
        partial.write_text(json.dumps(settings, indent=2))
        partial.replace(self._settings_path())

    def _job_settings(self) -> dict[str, str]:
        """Settings of the subclass's own job processes."""
        return {}

    def _join_jobs(self) -> None:
        """Wait a bounded time for the jobs still running."""

    def stop(self) -> None:
        """Let running jobs end, stop both servers, drop the temporary folder."""
        api, files = self._api, self._files
        if api is None or files is None:
            return
        self._join_jobs()
        self._api = self._files = None
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

    def __enter__(self: Self) -> Self:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        """Stop on leaving it."""
        self.stop()
