"""The services one client talks to: one per endpoint and protocol, opened on first use."""
from __future__ import annotations

import threading
from typing import Optional

from ..auth import EndpointAuth
from ..errors import NoAccountError
from ..jobrecord import JobRecord
from ..session import PepsSession
from ..states import Protocol
from . import needs_account, open_service, protocol_named
from .base import Service


class ServiceRegistry:
    """The services of one session and account, shared by the threads that check jobs.

    A client is made without an account when none is found; `no_account` is that
    absence's error, raised only when a service that needs an account is used.
    """

    def __init__(self, session: PepsSession, account: EndpointAuth,
                 no_account: Optional[NoAccountError]) -> None:
        self._session = session
        self._account = account
        self._no_account = no_account
        self._services: dict[tuple[str, Protocol], Service] = {}
        self._lock = threading.Lock()

    def require_account(self, protocol: Optional[Protocol]) -> None:
        """Raise the missing account's error for a service that needs one (None: any)."""
        if self._no_account is not None and self._account.api_key is None \
                and (protocol is None or needs_account(protocol)):
            raise self._no_account

    def of_job(self, job: JobRecord, default_endpoint: str) -> Service:
        """The service of the endpoint and protocol a job was submitted with."""
        return self.at(job.endpoint or default_endpoint, protocol_named(job.protocol))

    def at(self, endpoint: str, protocol: Protocol) -> Service:
        """The service of `endpoint` speaking `protocol`; a catalogue's origin gets the key."""
        self.require_account(protocol)
        if not needs_account(protocol):
            self._account.add_key_origin(endpoint)
        key = (endpoint, protocol)
        with self._lock:
            if key not in self._services:
                self._services[key] = open_service(self._session, endpoint, protocol)
            return self._services[key]
