"""The settings of the PyWPS server: the account, how long registration and jobs last."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union


@dataclass
class PyWpsConfig:
    """Everything the PyWPS server can be told; every field has a default.

    register_seconds: how long the asynchronous PyWPS process FULL_MAJA runs (its
    status document says ProcessStarted with a percentCompleted) before it succeeds
    with the report reference: PEPS's "registration" of the job.
    queue_seconds / run_seconds: then how long the report says PENDING, then STALLED,
    before FINISHED (the report only changes when PROCESSING_STATUS refreshes it).
    fail: when set, the report turns ERROR with this message half way through the run.
    register_fail: when set, FULL_MAJA itself fails at the end of its registration with
    this message (PyWPS's ProcessFailed in the status document; no report ever).
    parallel: PyWPS's `parallelprocesses` (PEPS ran at most 10 FULL_MAJA jobs at once).
    hold_registration: while true, every FULL_MAJA run stays registering (ProcessStarted,
    holding one of PyWPS's `parallel` slots) after its register_seconds, until
    `configure(hold_registration=False)`: tests see that phase for sure.
    """

    user: Optional[str] = "demo@example.com"
    password: str = "demo-password"
    host: str = "127.0.0.1"
    port: int = 0
    products_port: int = 0
    register_seconds: float = 0.5
    register_steps: int = 2
    queue_seconds: float = 0.0
    run_seconds: float = 1.0
    fail: Optional[str] = None
    register_fail: Optional[str] = None
    parallel: int = 10
    hold_registration: bool = False
    acquisition_step_days: int = 5
    cloudy_every: int = 4
    unprocessed_every: int = 7
    product_size: int = 64 * 1024
    work_dir: Optional[Union[str, Path]] = None

    def __post_init__(self) -> None:
        """Refuse settings the server cannot honour."""
        if self.register_steps < 1 or self.acquisition_step_days < 1 or self.parallel < 1:
            raise ValueError("register_steps, acquisition_step_days and parallel must be "
                             "at least 1")

    def job_settings(self) -> Dict[str, Any]:
        """The fields the processes read at each run, as JSON-ready values."""
        keep = ("register_seconds", "register_steps", "queue_seconds", "run_seconds", "fail",
                "register_fail", "hold_registration", "acquisition_step_days", "cloudy_every",
                "unprocessed_every", "product_size")
        return {key: value for key, value in asdict(self).items() if key in keep}
