"""A real PyWPS 4 server offering FULL_MAJA and PROCESSING_STATUS over WPS 1.0.0, for tests.

`PyWpsServer(PyWpsConfig(...))` runs PyWPS's own WSGI `Service` (configured in a
temporary folder: outputs, work folder, sqlite request log) behind the account gateway
of `emulator.ogcapi` (basic auth; 401 otherwise), on werkzeug's threaded server.
PyWPS's stored files (status documents, reports) are served from its outputs folder on
the same origin, the product zips by a separate file server (another origin, Range
support). See `processes.py` for how a job lives. PyWPS keeps its configuration in a
module global, so one server per process at a time (`start()` refuses a second).

Measured on PyWPS 4.8.1 (Python 3.11; it brings lxml, owslib and humanize besides what
pygeoapi already installs), compared with /work/shared/peps-protocol.md (PEPS ran
PyWPS 3.2):

- The client's POSTed XML `wps:Execute` (ows 1.1 identifiers, `ResponseDocument` with
  `storeExecuteResponse`/`status`, no `Output` element) is accepted as is: 200, a
  `wps:ExecuteResponse` with `ProcessAccepted percentCompleted="0"` and the text "PyWPS
  Process FULL_MAJA accepted" (PEPS: "Process FULL_MAJA accepted"). Same for a job PyWPS
  queues because `parallelprocesses` run (its own message is overwritten by "accepted").
- `statusLocation` is `{outputurl}/{uuid}.xml`: a UUID1, no `pywps-` prefix (PyWPS 3
  wrote `pywps-<ID>.xml`). The client's rule (drop `.xml`, then `pywps-` if present)
  gives the UUID, which is the id PROCESSING_STATUS is then asked about: no change.
- PyWPS serves no files itself: `outputurl` must be served by something else (here a
  werkzeug SharedDataMiddleware behind the same gateway).
- Status documents: ProcessStarted with `percentCompleted`, ProcessSucceeded without it.
  Outputs appear only once the process succeeded, which is why FULL_MAJA here
  "registers" and ends, and the job then lives on in the report (as on PEPS, where the
  reference came "once the job is registered").
- The output reference is `<wps:Reference href=...>`, `href` not namespaced (right for
  WPS 1.0.0 outputs; xlink:href is for inputs) and empty `encoding=""`/`schema=""`.
  An output is a reference only when asked (`asReference`) or made so by the process
  (`ComplexOutput(as_reference=True)`, as here): the client asks nothing.
- A failed run: `ProcessFailed` holding `<wps:ExceptionReport>` (wps, not ows, prefix)
  with `ows:Exception exceptionCode="NoApplicableCode" locator="None"` (Python's None
  printed) and the text "Process error: <message>" for a ProcessError; any other
  exception gives "Process failed, please check server error log" unless logging is DEBUG.
- A synchronous run (PROCESSING_STATUS, `status=false&storeExecuteResponse=false` as
  key-value GET) that fails answers HTTP 200 with a ProcessFailed ExecuteResponse, not an
  exception report. While `parallelprocesses` jobs run, PyWPS refuses any synchronous run
  with HTTP 400 `ServerBusy` (an ows:ExceptionReport).
- Refused requests (unknown process, missing input, bad value) answer HTTP 400 with an
  `ows:ExceptionReport`; `serviceInstance` is double-escaped (`&amp;amp;`), harmless.
"""
from __future__ import annotations

from .config import PyWpsConfig
from .server import PyWpsServer

__all__ = ["PyWpsConfig", "PyWpsServer"]
