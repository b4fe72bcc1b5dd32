"""A real pygeoapi server offering FULL_MAJA over OGC API - Processes, for tests and demos.

`OgcApiServer(OgcApiConfig(...))` runs pygeoapi's own Flask app (a private copy of
`pygeoapi.flask_app` per server, built from a config written in a temporary folder)
behind an account gateway, on werkzeug's threaded server, with the TinyDB job manager;
product zips are served by a separate file server (another port, so another origin).
`python -m emulators.ogcapi` serves it from the shell.

Measured on pygeoapi 0.21.0 (Python 3.11, TinyDB 4.9, Flask 3.1), compared with
/work/shared/ogcapi-processes.md; "as documented" where they agree:

- POST with `Prefer: respond-async` exactly: 201, `Preference-Applied: respond-async`,
  an absolute `Location` built from the configured server URL, body literally `null`
  (Content-Type application/json). Job ids are UUID1s. As documented.
- Any other `Prefer` (e.g. `respond-async, wait=10`) or none: the job runs inside the
  POST, 200 with the results document and still a `Location`. As documented.
- Inputs are not checked before the job starts: a refused input (bad tile, date before
  2016-04-01...) gives 201 and then a `failed` job. Only a synchronous POST answers 400
  (`{"type", "code", "description": "Error executing process: ..."}`, with a Location).
  Unknown process: 404 `NoSuchProcess`; a body that is not JSON: 400.
- statusInfo: `accepted` at progress 5 with `finished: null`; `running` 10 to 90 (this
  plugin's steps), then 95 ("Writing job output"); `successful` at 100; `parameters` is
  null. Not documented: accepted and running jobs already carry `results` links (f=html,
  f=json, and a bare one typed application/octet-stream); a successful job's links are
  only the f=html and f=json ones (the bare one appears only for non-JSON results), HTML
  first. So a results link does not mean success: read `status`.
- A failed job: no `links`; `message` is "InvalidParameterValue: Error executing process:
  <the plugin's message>"; progress stays where it stopped (not 100); `/results` 400
  `{"description": "job failed"}`. As documented, plus the message prefix.
- `/results` answers HTML unless `Accept: application/json` or `?f=json` (requests'
  default `Accept: */*` gets HTML); `/jobs` and `/jobs/{id}` answer JSON by default.
  Before the end: 404 `ResultNotReady`. As documented.
- Unknown job: 404 `InvalidParameterValue` on `/jobs/{id}`, `NoSuchJob` on its results
  and on DELETE. As documented.
- DELETE: 200, a `dismissed` statusInfo typed `text/html; charset=utf-8`; then 404.
  pygeoapi itself does not stop the worker: this plugin notices within 0.2 s that its
  job is gone and ends without writing products (`OgcApiServer.running_jobs`).
- `GET /jobs`: `{"jobs", "links"}` (no numberMatched), paged by `limit`/`offset`,
  default page 10 (`limits.default_items`). Differs: TinyDB pages the jobs oldest first
  and pygeoapi then sorts each page newest first, so the first page holds the OLDEST
  jobs; a `next` link is given whenever a page is full, even the last one (which then
  leads to an empty page), and `prev` from offset > 0.
- pygeoapi has no accounts. The gateway's rule: basic auth matching the account, or the
  API key header matching the key, passes; otherwise 403 if an API key header was sent
  (a wrong key), else 401 with `WWW-Authenticate: Basic realm="FULL_MAJA"`. The product
  server needs no credential.
"""
from __future__ import annotations

from .config import REPORT_FORMS, OgcApiConfig
from .files import FileRequest
from .gateway import GatewayRecord
from .server import OgcApiServer

__all__ = ["REPORT_FORMS", "FileRequest", "GatewayRecord", "OgcApiConfig", "OgcApiServer"]
