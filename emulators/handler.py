"""The HTTP side: routing, basic auth and the answers of each endpoint."""
from __future__ import annotations

import base64
import binascii
import hmac
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Callable, Dict, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

from . import documents, faults
from .config import Fault
from .execute import (
    ExecuteRequest,
    WpsError,
    full_maja_params,
    parse_kvp,
    parse_xml,
    processing_status_id,
)
from .faults import Replacement
from .jobs import Job
from .replies import Reply, exception_reply, text_reply, xml_reply
from .state import ANY_PRODUCT, RequestRecord
from .streaming import (
    BytesBody,
    FileBody,
    Hold,
    RangeNotSatisfiable,
    parse_range,
    send_body,
)

if TYPE_CHECKING:
    from .server import EmulatorHTTPServer

MIRROR_HOST = "localhost"
MAX_POST_BYTES = 1024 * 1024
_ROUTES = (
    ("GET POST", re.compile(r"/resto/wps/?"), "_wps"),
    ("GET HEAD", re.compile(r"/wps/outputs/pywps-([^/]+)\.xml"), "_status_document"),
    ("GET HEAD", re.compile(r"/wps/outputs/FULL_MAJA_([^/]+)\.json"), "_report"),
    ("GET HEAD", re.compile(r"/cgi-bin/mapcache_results/logs/joblog-([^/]+)\.log"), "_log"),
    ("GET HEAD", re.compile(r"/cgi-bin/mapcache_results/maja/([^/]+)/([^/]+)"), "_product"),
    ("GET HEAD", re.compile(r"/redirect/maja/([^/]+)/([^/]+)"), "_redirect"),
)
_PRODUCT_PATH = re.compile(r"/cgi-bin/mapcache_results/maja/")


class Handler(BaseHTTPRequestHandler):
    """Answers the PEPS endpoints for one connection."""

    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    timeout = 60
    # Like production web servers (TCP_NODELAY): a small body written after the headers
    # is not held back by Nagle's algorithm until the client's delayed ACK, 40 ms later.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        """The Server header."""
        return self.server_version

    def setup(self) -> None:
        """Let the server know this connection, so stop() can wake it."""
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        """Forget the connection."""
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve("GET")

    def do_HEAD(self) -> None:
        """Serve a HEAD: the GET's headers without body."""
        self._serve("HEAD")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Log a request line only when verbose."""
        if self.server.state.config.verbose:
            super().log_message(format, *args)

    def _serve(self, method: str) -> None:
        """Record, wait out the latency, route; a vanished client just ends the connection."""
        self.method = method
        url = urlsplit(self.path)
        self.query = dict(parse_qsl(url.query, keep_blank_values=True))
        self.record = self.server.state.record(self._new_record(url.path))
        self.last_write: Optional[float] = None
        self.hold: Optional[Hold] = None
        try:
            refusal = self._read_body(method)
            self._wait_latency()
            if refusal is None:
                self._dispatch(url.path)
            else:
                self.close_connection = True
                self._send(refusal)
        except (ConnectionError, socket.timeout):
            self.close_connection = True
            self.last_write = None
        finally:
            self.record.finished = self.last_write or time.monotonic()

    def _read_body(self, method: str) -> Optional[Reply]:
        """Read a POSTed body of sane size; the 400 or 413 answer if it is not."""
        self.body = b""
        if method != "POST":
            return None
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isdigit():
            return text_reply(400, "400 Bad Request: no usable Content-Length")
        if int(declared) > MAX_POST_BYTES:
            return text_reply(413, "413 Request Entity Too Large")
        self.body = self.rfile.read(int(declared))
        return None

    def _wait_latency(self) -> None:
        """Hold this answer back for the configured latency; other connections go on."""
        latency = self.server.state.config.latency
        if latency > 0:
            self.server.state.stopping.wait(latency)

    def _mark_sent(self) -> None:
        """Note the time of the answer's latest write, its end once the answer is whole."""
        self.last_write = time.monotonic()

    def _new_record(self, path: str) -> RequestRecord:
        """What the tests may check about this request."""
        return RequestRecord(self.method, path, dict(self.query), self.headers.get("Range"),
                             self._credentials_ok(), "Authorization" in self.headers,
                             self.headers.get("Host", ""))

    def _credentials_ok(self) -> bool:
        """Whether the request carries the configured basic-auth account."""
        scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        config = self.server.state.config
        expected = f"{config.user}:{config.password}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _on_mirror(self, path: str) -> bool:
        """Whether a product is asked of the other host name, which needs no account."""
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        own_host = self.server.state.config.host
        return host == MIRROR_HOST != own_host and bool(_PRODUCT_PATH.match(path))

    def _dispatch(self, path: str) -> None:
        """Refuse unauthenticated requests, then hand over to the matching endpoint."""
        if not self.record.authorized and not self._on_mirror(path):
            self._send(text_reply(401, "401 Unauthorized: a PEPS account is required",
                                  {"WWW-Authenticate": 'Basic realm="PEPS"'}))
            return
        for methods, pattern, name in _ROUTES:
            match = pattern.fullmatch(path)
            if match and self.method in methods.split():
                getattr(self, name)(*(unquote(group) for group in match.groups()))
                return
        self._send(text_reply(404, f"404 Not Found: {path}"))

    def _wps(self) -> None:
        """The WPS endpoint: Execute of FULL_MAJA or PROCESSING_STATUS."""
        try:
            request = self._execute_request()
        except WpsError as error:
            self._send(exception_reply(error))
            return
        if request.identifier == documents.FULL_MAJA:
            self._submit(request)
        else:
            self._refresh(request)

    def _execute_request(self) -> ExecuteRequest:
        """The Execute request, from the POSTed XML or the query string."""
        if self.method == "POST" and self.body.strip():
            return parse_xml(self.body)
        return parse_kvp(self.query)

    def _submit(self, request: ExecuteRequest) -> None:
        """Create a job and answer ProcessAccepted, unless a fault says otherwise."""
        fault, replaced = faults.wps_fault(self.server.state, "submit",
                                           self.server.state.config.submit_fault)
        if self._replaced(replaced):
            return
        try:
            params = full_maja_params(request)
        except WpsError as error:
            self._send(exception_reply(error))
            return
        job = self.server.state.create_job(params)
        self._send(xml_reply(documents.accepted_response(self.server.base_url, job)), fault)

    def _refresh(self, request: ExecuteRequest) -> None:
        """Advance a job by one step and answer ProcessSucceeded."""
        fault, replaced = faults.wps_fault(self.server.state, "refresh",
                                           self.server.state.config.refresh_fault)
        if self._replaced(replaced):
            return
        try:
            job = self._known_job(processing_status_id(request))
        except WpsError as error:
            self._send(exception_reply(error))
            return
        self.server.state.refresh(job)
        self._send(xml_reply(documents.refresh_response(self.server.base_url, job)), fault)

    def _known_job(self, job_id: str) -> Job:
        """The job a PROCESSING_STATUS names."""
        job = self.server.state.job(job_id)
        if job is None:
            raise WpsError("InvalidParameterValue", f"no job with wps_id {job_id!r}", "wps_id")
        return job

    def _status_document(self, job_id: str) -> None:
        """The job's stored status document; each GET moves registration on."""
        job = self.server.state.job(job_id)
        if job is None:
            self._send(text_reply(404, f"404 Not Found: no status document for {job_id}"))
            return
        fault = self.server.state.take_fault("status")
        if self._answered_by(fault):
            return
        self.server.state.count_status_get(job)
        data = documents.status_document(self.server.base_url, job)
        override = self.server.state.config.status_override
        if override is not None:
            data = documents.report_body(override(job, data.decode("utf-8")))
        self._send(xml_reply(data), fault)

    def _report(self, job_id: str) -> None:
        """The JSON report, once the job is registered."""
        job = self.server.state.job(job_id)
        if job is None or not job.registered:
            self._send(text_reply(404, f"404 Not Found: no report for job {job_id}"))
            return
        fault = self.server.state.take_fault("report")
        if self._answered_by(fault):
            return
        report = documents.report_dict(job, self.server.base_url, self._product_url(job))
        override = self.server.state.config.report_override
        sent = report if override is None else override(job, report)
        body = BytesBody(documents.report_body(sent))
        self._send(Reply(200, "application/json", body), fault)

    def _product_url(self, job: Job) -> Callable[[str], str]:
        """How the report names a product: directly, or through the redirecting alias."""
        redirect = self.server.state.config.redirect_products
        base = self.server.base_url
        return lambda name: documents.product_location(base, job.id, name, redirect)

    def _log(self, job_id: str) -> None:
        """The plain-text job log."""
        job = self.server.state.job(job_id)
        if job is None:
            self._send(text_reply(404, f"404 Not Found: no log for job {job_id}"))
            return
        fault = self.server.state.take_fault("log")
        if not self._answered_by(fault):
            body = BytesBody(documents.job_log(job))
            self._send(Reply(200, "text/plain; charset=utf-8", body), fault)

    def _product(self, job_id: str, name: str) -> None:
        """A product zip, streamed from the disk cache; NOVALD and unknown ones are 404."""
        fault = self.server.state.take_fault(name, ANY_PRODUCT)
        if self._answered_by(fault):
            return
        job = self.server.state.job(job_id)
        if job is None or not job.downloadable(name):
            self._send(text_reply(404, f"404 Not Found: no product {name}"), fault)
            return
        config = self.server.state.config
        path = self.server.store.zip_path(name, config.product_size, job.params.get("orbit"),
                                          config.all_bands)
        self.hold = self.server.state.hold_for(name, ANY_PRODUCT)
        self._send(Reply(200, "application/zip", FileBody(path), ranged=True), fault)

    def _redirect(self, job_id: str, name: str) -> None:
        """Send the client to the same product on the other host name."""
        port = self.server.server_address[1]
        target = documents.product_location(f"http://{MIRROR_HOST}:{port}", job_id, name)
        self._send(text_reply(302, f"302 Found: {target}", {"Location": target}))

    def _answered_by(self, fault: Optional[Fault]) -> bool:
        """Answer a fault that replaces the response; True if it did."""
        return self._replaced(faults.replacement(fault))

    def _replaced(self, replaced: Optional[Replacement]) -> bool:
        """Send a fault's replacement answer (or drop the line); True if there was one."""
        if replaced is None:
            return False
        if replaced.reply is None:
            self.close_connection = True
        else:
            self._send(replaced.reply)
        return True

    def _send(self, reply: Reply, fault: Optional[Fault] = None) -> None:
        """Send a reply, honouring Range and the faults that spoil the body."""
        try:
            start, end, headers, status = self._span(reply, fault)
        except RangeNotSatisfiable:
            size = reply.body.size
            self._send(text_reply(416, "416 Range Not Satisfiable",
                                  {"Content-Range": f"bytes */{size}"}))
            return
        self.send_response(status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(end - start))
        for key, value in headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self._mark_sent()
        self.end_headers()
        if self.method != "HEAD" and not self._send_body(reply, start, end, fault):
            self.close_connection = True
            self.last_write = None

    def _span(self, reply: Reply, fault: Optional[Fault]) -> Tuple[int, int, Dict[str, str], int]:
        """The bytes to send, the extra headers and the status, after Range."""
        size, headers = reply.body.size, dict(reply.headers)
        honour = (reply.ranged and self.server.state.config.range_support
                  and not faults.refuses_range(fault))
        if not honour:
            return 0, size, headers, reply.status
        headers["Accept-Ranges"] = "bytes"
        span = parse_range(self.headers.get("Range"), size)
        if span is None:
            return 0, size, headers, reply.status
        wrong = faults.wrong_start(fault)
        if wrong is not None:
            span = (min(wrong, size - 1), span[1])
        headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{size}"
        return span[0], span[1], headers, 206

    def _send_body(self, reply: Reply, start: int, end: int, fault: Optional[Fault]) -> bool:
        """Stream the body; False if it was cut short on purpose or by stop()."""
        delivery = faults.delivery(fault)
        if reply.ranged:
            delivery.bandwidth = self.server.state.config.bandwidth
            delivery.hold = self.hold
        return send_body(self.wfile, reply.body, start, end, delivery,
                         self.server.state.stopping, self._count_sent, self._mark_sent)

    def _count_sent(self, count: int) -> None:
        """Add sent body bytes to the request record."""
        self.record.bytes_sent += count

