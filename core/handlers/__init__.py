"""Request handlers the framework itself serves: the base class, /healthz, errors."""
from .base import BaseHandler, HTTPError  # noqa: F401
