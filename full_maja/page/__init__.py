"""`series.html`: the whole series of a log at a glance, in a page any browser opens offline.

The page is plain HTML with the package's `series.css` inline: no script, no network
resource, nothing but relative links to the product zips and to the quick-looks saved
beside it in `series-quicklooks/` (read by `full_maja.quicklooks`). Every text that
comes from the server or the log is escaped. `write` writes the page, `document` frames
it, `job` renders one job's section and `timeline` its strip of dates.
"""
from ..quicklooks import QUICKLOOK_DIR, quicklook_name
from .write import PAGE_NAME, write_series_page

__all__ = ["PAGE_NAME", "QUICKLOOK_DIR", "quicklook_name", "write_series_page"]
