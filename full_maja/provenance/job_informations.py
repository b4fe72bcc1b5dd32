"""The facts of `_JPI_ALL.xml`: MAJA's processing flags and modes, the DEM's statistics."""
from __future__ import annotations

from typing import Any

from .elements import Element, all_named, text_of
from .record import DemStatistics
from .values import finite_float


def from_job_informations(root: Element) -> dict[str, Any]:
    """The facts of `_JPI_ALL.xml`: processing flags and modes, DEM statistics."""
    flags: dict[str, str] = {}
    for element in all_named(root, "Processing_Flags_And_Modes"):
        key, value = text_of(element, "Key"), text_of(element, "Value")
        if key and value is not None:
            flags.setdefault(key.lower(), value)
    statistics = next(all_named(root, "MNT_Statistics"), None)
    dem = None
    if statistics is not None:
        dem = DemStatistics(finite_float(text_of(statistics, "Min")),
                            finite_float(text_of(statistics, "Max")),
                            finite_float(text_of(statistics, "Average")),
                            finite_float(text_of(statistics, "Standard_Deviation")))
    return {"cams": flags.get("cams_processing"),
            "processing_mode": flags.get("processing_mode"),
            "cirrus_correction": flags.get("cirrus_correction"),
            "adjacency_slope_correction": flags.get("adjacency_effects_and_slope_correction"),
            "validity": flags.get("validity_flag"), "dem": dem}
