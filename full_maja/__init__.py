"""full-maja: get MAJA L2A time series of Sentinel-2 tiles, from a catalogue or processed.

The command-line scripts are thin users of this API::

    import full_maja
    requests = full_maja.validate_request("36TWQ", 64, "2019-03-01", "2019-09-01")
    with full_maja.Client(url, credentials=full_maja.Credentials(user, password)) as client:
        client.submit(requests, "36TWQ.log")
        report = client.download("36TWQ.log", "products")
"""
from .__version__ import __version__
from .client import Client, open_log
from .credentials import Credentials, resolve_credentials
from .download import ProductResult
from .endpoints import (
                     DEFAULT_CATALOGUE,
                     DEFAULT_ENDPOINT,
                     resolve_catalogue,
                     resolve_endpoint,
)
from .errors import (
                     AuthenticationError,
                     BusyError,
                     Cancelled,
                     CredentialsError,
                     FullMajaError,
                     JobLogError,
                     NetworkError,
                     NotSupported,
                     ProductError,
                     ServiceError,
                     UsageError,
                     ValidationError,
)
from .joblog import JobLog
from .jobrecord import JobRecord
from .products import ProductRef
from .series import JobSeries, SeriesEntry, SeriesReport
from .service import JobState
from .service.jobreport import JobReport
from .states import JobPhase, ProductOutcome, Progress
from .validation import JobRequest, split_period, validate_request, validate_search

__all__ = [
                     "DEFAULT_CATALOGUE",
                     "DEFAULT_ENDPOINT",
                     "AuthenticationError",
                     "BusyError",
                     "Cancelled",
                     "Client",
                     "Credentials",
                     "CredentialsError",
                     "FullMajaError",
                     "JobLog",
                     "JobLogError",
                     "JobPhase",
                     "JobRecord",
                     "JobReport",
                     "JobRequest",
                     "JobSeries",
                     "JobState",
                     "NetworkError",
                     "NotSupported",
                     "ProductError",
                     "ProductOutcome",
                     "ProductRef",
                     "ProductResult",
                     "Progress",
                     "SeriesEntry",
                     "SeriesReport",
                     "ServiceError",
                     "UsageError",
                     "ValidationError",
                     "__version__",
                     "open_log",
                     "resolve_catalogue",
                     "resolve_credentials",
                     "resolve_endpoint",
                     "split_period",
                     "validate_request",
                     "validate_search",
]
