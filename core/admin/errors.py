"""The list's error: ``BadListArguments``, a query argument the list cannot take.

Its own module so that every part of the list (``filters``, ``search``, ``related``,
``changelist``) can raise it without importing another part."""

__all__ = ["BadListArguments"]


class BadListArguments(ValueError):
    """A query argument the list cannot take (a 400 on the page and in the API)."""
