"""The emulator's settings and the faults it can be told to inject."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Union

FAULT_KINDS = ("none", "status", "truncate", "stall", "html", "json", "corrupt", "no-range",
               "wrong-range", "drop", "exception")
SUBMIT_FAULTS = (None, "exception", "http500", "drop", "html")
REFRESH_FAULTS = (None, "http500", "exception")
JOB_ID_STYLES = ("digits", "uuid")

ReportOverride = Callable[[Any, dict], Union[str, bytes, dict]]
StatusOverride = Callable[[Any, str], Union[str, bytes]]


def _default_timeline() -> List[str]:
    """The job_status values a job goes through by default."""
    return ["PENDING", "STALLED", "STALLED", "FINISHED"]


@dataclass
class Fault:
    """One injected misbehaviour, used up by one request.

    Kind "none" lets its request through untouched: queue it first to fault
    the second request to a target rather than the first. "wrong-range" answers a
    Range request with 206 from byte `value` (default 0) instead of the byte asked,
    its Content-Range saying so. "exception" answers a WPS request with an OWS
    ExceptionReport whose text is `text`.
    """

    kind: str
    value: Optional[int] = None
    retry_after: Optional[int] = None
    stall_seconds: float = 120.0
    text: Optional[str] = None

    def __post_init__(self) -> None:
        """Refuse unknown kinds and missing values early."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.kind in ("status", "truncate", "stall") and self.value is None:
            raise ValueError(f"fault {self.kind!r} needs a value")


@dataclass
class EmulatorConfig:
    """Everything the emulator can be told; every field has a default."""

    user: str = "demo@example.com"
    password: str = "demo-password"
    host: str = "127.0.0.1"
    port: int = 0
    timeline: List[str] = field(default_factory=_default_timeline)
    registration_polls: int = 1
    process_failed: bool = False
    job_id_style: str = "digits"
    acquisition_step_days: int = 5
    cloudy_every: int = 4
    unprocessed_every: int = 7
    products: Optional[List[str]] = None
    product_size: int = 64 * 1024
    all_bands: bool = False
    products_dir: Optional[Union[str, Path]] = None
    bandwidth: Optional[int] = None
    latency: float = 0.0
    range_support: bool = True
    redirect_products: bool = False
    submit_fault: Optional[str] = None
    refresh_fault: Optional[str] = None
    report_override: Optional[ReportOverride] = None
    status_override: Optional[StatusOverride] = None
    verbose: bool = False

    def __post_init__(self) -> None:
        """Refuse settings the emulator cannot honour."""
        if not self.timeline:
            raise ValueError("timeline must hold at least one job_status")
        if self.job_id_style not in JOB_ID_STYLES:
            raise ValueError(f"job_id_style must be one of {JOB_ID_STYLES}")
        if self.submit_fault not in SUBMIT_FAULTS:
            raise ValueError(f"submit_fault must be one of {SUBMIT_FAULTS}")
        if self.refresh_fault not in REFRESH_FAULTS:
            raise ValueError(f"refresh_fault must be one of {REFRESH_FAULTS}")
        if self.acquisition_step_days < 1:
            raise ValueError("acquisition_step_days must be at least 1")
        if not 0 <= self.latency < math.inf:
            raise ValueError("latency must be 0 or more seconds")
