"""Downloading products: resumable, verified before their final name, in parallel.

`downloader` schedules the products and the connections, `transfer` moves one
product's bytes, `tails` the free connections that help with its tail, `responses`
holds the rules for the server's answers, `policy` when a product is split over
connections, `parts` its part files, `partchecks` what the main part passes before
its final name, `zipcheck` the zip verification, `digest` its MD5 or SHA-256,
`samenames` one writer per product name and its conflicts, `verified` the record of
verified products and `extract` the unpacking.
"""
from .downloader import Downloader, ProductResult
from .policy import DEFAULT_SPLIT_POLICY, SplitPolicy
from .verified import VerifiedRecord

__all__ = ["DEFAULT_SPLIT_POLICY", "Downloader", "ProductResult", "SplitPolicy",
           "VerifiedRecord"]
