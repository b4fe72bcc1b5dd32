"""The settings of the OGC API server: accounts, the report's form, how long jobs run."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

REPORT_FORMS = ("inline", "value", "href", "id")
HOLDS = (None, "queued", "running")


@dataclass
class OgcApiConfig:
    """Everything the OGC API server can be told; every field has a default.

    report_form: how the `report` output is given in the results document:
    "inline" {"report": {...}}, "value" {"report": {"value": {...}}}, "href"
    {"report": {"href": ".../report.json", "type": "application/json"}}, or "id"
    {"id": "report", "value": {...}} (pygeoapi's habit) as the whole result.
    fail: when set, every job fails after half its run with this message.
    hold: "queued" or "running" keeps every job in that phase (queued after its
    queue_seconds, running at its first step) until `configure(hold=None)`: tests see a
    phase for sure instead of racing the clock.
    """

    user: Optional[str] = "demo@example.com"
    password: str = "demo-password"
    api_key: Optional[str] = "demo-api-key"
    api_key_header: str = "X-API-Key"
    host: str = "127.0.0.1"
    port: int = 0
    products_port: int = 0
    prefix: str = "/ogcapi"
    report_form: str = "inline"
    user_info: bool = False
    queue_seconds: float = 0.0
    run_seconds: float = 1.0
    progress_steps: int = 4
    fail: Optional[str] = None
    hold: Optional[str] = None
    acquisition_step_days: int = 5
    cloudy_every: int = 4
    unprocessed_every: int = 7
    product_size: int = 64 * 1024
    work_dir: Optional[Union[str, Path]] = None
    verbose: bool = False

    def __post_init__(self) -> None:
        """Refuse settings the server cannot honour."""
        if self.report_form not in REPORT_FORMS:
            raise ValueError(f"report_form must be one of {REPORT_FORMS}")
        if self.prefix and (not self.prefix.startswith("/") or self.prefix.endswith("/")):
            raise ValueError("prefix must be empty or start, and not end, with '/'")
        if self.progress_steps < 1 or self.acquisition_step_days < 1:
            raise ValueError("progress_steps and acquisition_step_days must be at least 1")
        if self.api_key_header.lower() == "authorization":
            raise ValueError("api_key_header cannot be Authorization")
        if self.hold not in HOLDS:
            raise ValueError(f"hold must be one of {HOLDS}")

    def job_settings(self) -> Dict[str, Any]:
        """The fields the process plugin reads at each job, as JSON-ready values."""
        keep = ("report_form", "user_info", "queue_seconds", "run_seconds", "progress_steps",
                "fail", "hold", "acquisition_step_days", "cloudy_every", "unprocessed_every",
                "product_size")
        return {key: value for key, value in asdict(self).items() if key in keep}
