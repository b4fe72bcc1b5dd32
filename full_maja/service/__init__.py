"""Everything that speaks to a FULL_MAJA server, behind one interface (`Service`)."""
from __future__ import annotations

from ..session import PepsSession
from .base import UNREACHABLE, JobState, ServerJob, Service
from .peps import WpsService

__all__ = ["UNREACHABLE", "JobState", "ServerJob", "Service", "WpsService", "open_service"]


def open_service(session: PepsSession, endpoint: str) -> Service:
    """The service behind `endpoint`."""
    return WpsService(session, endpoint)
