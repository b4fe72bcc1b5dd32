"""The JSON report PEPS keeps for a job (its USER_INFO), read tolerantly."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import ServiceError
from ..products import ProductRef

PENDING, STALLED, FINISHED, ERROR, CANCELED = "PENDING", "STALLED", "FINISHED", "ERROR", "CANCELED"
ENDED_STATES = frozenset({FINISHED, ERROR, CANCELED})
FAILED_STATES = frozenset({ERROR, CANCELED})
_MISSING_KEYS = ("missing", "missing_products", "unprocessed_products", "not_processed")
_PERCENT = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class JobReport:
    """What the report says of a job: `results` are its products (cloudy dates included)."""

    state: str
    progress: Optional[str] = None
    results: list[ProductRef] = field(default_factory=list)
    unprocessed: Optional[int] = None
    missing: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def urls(self) -> list[str]:
        """The URLs of the results, in order."""
        return [ref.url for ref in self.results]

    @property
    def progress_percent(self) -> Optional[float]:
        """The progress figure as a number, when it holds one."""
        match = _PERCENT.search(self.progress or "")
        return float(match.group()) if match else None


def parse_report(content: bytes, url: str = "the job report") -> JobReport:
    """Read a JSON report; any field may be absent, but a present one must make sense."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ServiceError(f"{url} is not JSON; the server may be in trouble, "
                           "run again later") from None
    return report_from_document(document, url)


def report_from_document(document: Any, url: str = "the job report") -> JobReport:
    """Read an already decoded report: its USER_INFO, or the object itself."""
    if not isinstance(document, dict):
        raise ServiceError(f"{url} is not a JSON object")
    info = document.get("USER_INFO", document)
    if not isinstance(info, dict):
        raise ServiceError(f"{url}: USER_INFO is not an object")
    return _report_from_info(url, info)


def _report_from_info(url: str, info: dict[str, Any]) -> JobReport:
    state = info.get("job_status")
    if not isinstance(state, str) or not state.strip():
        raise ServiceError(f"{url} has no job_status")
    missing = _missing_list(url, info)
    return JobReport(state=state.strip().upper(),
                     progress=_progress(url, info.get("process")),
                     results=[ProductRef(item) for item in _string_list(url, info, "results")],
                     unprocessed=_unprocessed(url, info.get("unprocessed"), missing),
                     missing=missing,
                     logs=_string_list(url, info, "logs"),
                     message=_text(url, info.get("message"), "message"))


def _string_list(url: str, info: dict[str, Any], key: str) -> list[str]:
    value = info.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ServiceError(f"{url}: {key} is not a list of URLs")
    return [item.strip() for item in value if item.strip()]


def _missing_list(url: str, info: dict[str, Any]) -> list[str]:
    for key in _MISSING_KEYS:
        if key in info:
            return _string_list(url, info, key)
    if isinstance(info.get("unprocessed"), list):
        return _string_list(url, info, "unprocessed")
    return []


def _unprocessed(url: str, value: Any, missing: list[str]) -> Optional[int]:
    if value is None or value == "":
        return len(missing) if missing else None
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bool):
        raise ServiceError(f"{url}: unprocessed is not a number")
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    raise ServiceError(f"{url}: unprocessed is not a number")


def _progress(url: str, value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ServiceError(f"{url}: process is not a progress figure")
    return f"{value}%" if not isinstance(value, str) else value.strip()


def _text(url: str, value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return " ".join(str(value).split())
    if isinstance(value, list):
        return " ".join(" ".join(str(item).split()) for item in value)
    raise ServiceError(f"{url}: {key} is not text")
