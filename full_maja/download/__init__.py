"""Downloading products: resumable, verified before their final name, in parallel.

`downloader` schedules the products and the connections, `transfer` moves one
product's bytes, `responses` holds the rules for the server's answers, `policy`
when a product is split over connections, `parts` its part files, `zipcheck`
the zip verification, `verified` the record of verified products and
`extract` the unpacking.
"""
from .downloader import Downloader, ProductResult
from .policy import DEFAULT_SPLIT_POLICY, SplitPolicy
from .verified import VerifiedRecord

__all__ = ["DEFAULT_SPLIT_POLICY", "Downloader", "ProductResult", "SplitPolicy",
           "VerifiedRecord"]
