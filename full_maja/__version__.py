"""The version of full-maja, in one place."""
__version__ = "0.1.0"
