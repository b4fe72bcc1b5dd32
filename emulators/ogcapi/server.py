"""OgcApiServer: pygeoapi behind the account gateway, and the product file server."""
from __future__ import annotations

from typing import Any, Optional

from pygeoapi.process.base import JobNotFoundError  # type: ignore[import-untyped]
from pygeoapi.process.manager.tinydb_ import TinyDBManager  # type: ignore[import-untyped]

from .app import flask_app, pygeoapi_config, write_documents
from .config import OgcApiConfig
from .gateway import Gateway
from .gatewayed import STOP_JOIN_SECONDS, GatewayedServer
from .process import forget_link, link_for, now_text


class OgcApiServer(GatewayedServer):
    """A real pygeoapi serving FULL_MAJA, for the client's tests and demo."""

    work_prefix = "full-maja-ogcapi-"
    settings_name = "process-settings.json"
    thread_name = "ogcapi"
    config: OgcApiConfig

    def __init__(self, config: Optional[OgcApiConfig] = None) -> None:
        """Prepare a server; start() (or `with`) makes it listen."""
        config = config if config is not None else OgcApiConfig()
        super().__init__(config, Gateway(config))

    @property
    def url(self) -> str:
        """The API's landing page, e.g. http://127.0.0.1:8080/ogcapi."""
        return self.root_url + self.config.prefix

    @property
    def running_jobs(self) -> int:
        """How many job worker threads are running now (a dismissed job's stops soon)."""
        if self._work is None:
            return 0
        return link_for(str(self._settings_path())).running()

    def set_job_status(self, job_id: str, status: str, message: str = "") -> None:
        """Change a job's record as the server itself would (an operator dismissing it).

        pygeoapi then answers this status for the job; a worker still running it may
        write over it at its next step: use it on a queued job (`queue_seconds`) or an
        ended one.
        """
        manager = TinyDBManager({"name": "TinyDB", "connection": str(self.work_dir / "jobs.db"),
                                 "output_dir": str(self.work_dir / "outputs")})
        try:
            manager.get_job(job_id)
        except JobNotFoundError:
            raise KeyError(job_id) from None
        manager.update_job(job_id, {"status": status, "message": message,
                                    "updated": now_text()})

    def _key_header(self) -> str:
        return self.config.api_key_header

    def _make_app(self) -> Any:
        (self.work_dir / "outputs").mkdir(exist_ok=True)
        config = pygeoapi_config(self.url, self.work_dir, self._settings_path(),
                                 self.config.verbose)
        return flask_app(write_documents(config, self.work_dir))

    def _job_settings(self) -> dict[str, str]:
        return {"db": str(self.work_dir / "jobs.db"),
                "output_dir": str(self.work_dir / "outputs")}

    def _join_jobs(self) -> None:
        settings = str(self._settings_path())
        link_for(settings).join(STOP_JOIN_SECONDS)
        forget_link(settings)
