"""Declarative models over ``core.db``; see ``docs/models.md``.

    from core.models import Model, fields, Index, bind

    class Article(Model):
        title = fields.StringField(max_length=200, required=True)

    bind(core.db.connect("memory:"))
    article = await Article.create(title="Hello")
"""
from . import fields  # noqa: F401
from .base import BoundModel, Model, ModelCursor, all_models, get_model, parse_id  # noqa: F401
from .connection import bind, get_database, unbind  # noqa: F401
from .files import FileField, ImageField, StoredFile, Upload  # noqa: F401
from .errors import (  # noqa: F401
    NON_FIELD_ERRORS, DatabaseNotBound, DoesNotExist, ImproperlyConfigured, NotFound,
    StaleObjectError, UniqueError, ValidationError,
)
from .options import DEFAULT_ACTIONS, Index, Options  # noqa: F401
from .projected import NotFetched, ProjectedObjectError  # noqa: F401

__all__ = [
    "Model", "fields", "Index", "Options", "ModelCursor", "BoundModel",
    "bind", "unbind", "get_database", "get_model", "all_models", "parse_id",
    "ValidationError", "UniqueError", "StaleObjectError", "DoesNotExist", "NotFound",
    "DatabaseNotBound", "ImproperlyConfigured", "NON_FIELD_ERRORS", "DEFAULT_ACTIONS",
    "FileField", "ImageField", "StoredFile", "Upload", "NotFetched", "ProjectedObjectError",
]
