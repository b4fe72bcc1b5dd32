"""A real pygeoapi server offering FULL_MAJA over OGC API - Processes, for tests and demos."""
from __future__ import annotations

from .config import REPORT_FORMS, OgcApiConfig
from .files import FileRequest
from .gateway import GatewayRecord
from .server import OgcApiServer

__all__ = ["REPORT_FORMS", "FileRequest", "GatewayRecord", "OgcApiConfig", "OgcApiServer"]
