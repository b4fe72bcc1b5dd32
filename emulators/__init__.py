"""A faithful local emulator of PEPS's FULL_MAJA WPS service, as a real HTTP server."""
from __future__ import annotations

from .config import EmulatorConfig, Fault
from .jobs import Job
from .server import Emulator
from .state import RequestRecord
from .streaming import Hold

__all__ = ["Emulator", "EmulatorConfig", "Fault", "Hold", "Job", "RequestRecord"]
