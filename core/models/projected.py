"""Projected objects: model objects holding only some stored fields, for display.

``Model.find(..., fields=["title", "author"])`` fetches only those fields (and ``_id``
and ``version``; the store applies the projection) and builds each object with
``from_projection``: a field whose stored value already is its Python value (a string,
number, boolean, id, moment from our stores) is taken as stored, without
``Field.from_bson``; the others are converted as ``from_bson`` does. Such an object is
for reading only:

* reading a declared field that was not fetched raises ``NotFetched`` (never a silent
  ``None``: a caller falls back to whole objects, as the list page does);
* ``save()`` and ``delete()`` raise ``ProjectedObjectError``: a partial document must
  never replace the stored one.
"""

__all__ = ["NotFetched", "ProjectedData", "ProjectedObjectError", "stored_as_is"]


class NotFetched(LookupError):
    """A projected object was asked for a field its query did not fetch."""

    def __init__(self, model, name):
        super().__init__(f"{model.__name__}.{name} was not fetched (a projected object)")
        self.model, self.name = model, name


class ProjectedObjectError(TypeError):
    """``save()`` or ``delete()`` of a projected object (it holds only some fields)."""


class ProjectedData(dict):
    """A projected object's ``_data``: the fetched fields. ``get`` and ``[]`` of a declared
    field that was not fetched raise ``NotFetched``; iterating sees the fetched ones."""

    __slots__ = ("model",)

    def get(self, name, default=None):
        if name in self:
            return dict.__getitem__(self, name)
        if name in self.model._meta.fields:
            raise NotFetched(self.model, name)
        return default

    def __missing__(self, name):
        if name in self.model._meta.fields:
            raise NotFetched(self.model, name)
        raise KeyError(name)


def stored_as_is(field):
    """Whether ``field``'s stored value is its Python value: the class whose ``from_bson``
    it uses says so (``stored_as_python = True`` beside that method), or that method is
    ``Field.from_bson`` (the identity). A subclass overriding ``from_bson`` is converted
    unless it says so itself."""
    from .fields import Field
    for klass in type(field).__mro__:
        if "from_bson" in vars(klass):
            return klass is Field or bool(vars(klass).get("stored_as_python", False))
    return False
