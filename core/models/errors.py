"""Exceptions raised by models.

``ValidationError`` is what forms and the JSON API turn into field errors (or a
409 for ``UniqueError``); ``StaleObjectError`` is an edit conflict; neither is
ever a 500.
"""

NON_FIELD_ERRORS = "__all__"


class ValidationError(ValueError):
    """Input that a field or a model rejected.

    ``errors`` maps a field name (or ``NON_FIELD_ERRORS``, ``"__all__"``, for a
    rule about the whole object) to a message::

        raise ValidationError("Enter a valid email address.", field="email")
        raise ValidationError({"end": "Must be after start."})
        raise ValidationError("Nothing to publish.")       # a non-field error

    ``str(error)`` names every field: ``"email: Enter a valid email address."``.
    ``code`` is a short machine-readable reason (``"required"``, ``"invalid"``,
    ``"unique"``, ...) when one is known.
    """

    def __init__(self, message, field=None, code=None):
        if isinstance(message, ValidationError):
            errors = dict(message.errors)
            code = code or message.code
        elif isinstance(message, dict):
            errors = {str(k): _as_text(v) for k, v in message.items()}
        else:
            errors = {field or NON_FIELD_ERRORS: _as_text(message)}
        if not errors:
            raise ValueError("ValidationError needs at least one message")
        self.errors = errors
        self.code = code
        super().__init__(self._describe())

    @property
    def field(self):
        """The single field this error is about, or ``None``."""
        if len(self.errors) == 1:
            name = next(iter(self.errors))
            return None if name == NON_FIELD_ERRORS else name
        return None

    @property
    def message(self):
        """The first message (handy when there is only one)."""
        return next(iter(self.errors.values()))

    def _describe(self):
        return "; ".join(message if name == NON_FIELD_ERRORS else f"{name}: {message}"
                         for name, message in self.errors.items())

    def __str__(self):
        return self._describe()


def _as_text(message):
    if isinstance(message, (list, tuple)):
        return " ".join(str(m) for m in message)
    return str(message)


class UniqueError(ValidationError):
    """A unique index refused the write: the value is already taken.

    Raised by ``save()``/``create()`` in place of the driver's
    ``DuplicateKeyError``; ``errors`` names the field when the index is a
    single-field one (else the message is a non-field error). The JSON API may
    answer 409 for it, a form shows it next to the field.
    """

    def __init__(self, message, field=None, index=None):
        super().__init__(message, field=field, code="unique")
        self.index = index


class StaleObjectError(Exception):
    """Someone else saved (or deleted) the object since it was loaded.

    Raised by ``save()`` when the stored version no longer matches; nothing was
    written. ``current`` is the stored document now (``None`` if it was deleted)
    and ``current_version`` its version, so a caller can show the conflict or
    reload and retry.
    """

    def __init__(self, model, id, expected_version, current):
        self.model = model
        self.id = id
        self.expected_version = expected_version
        self.current = current
        self.current_version = None if current is None else current.get("version")
        name = model._meta.verbose_name if model is not None else "object"
        if current is None:
            text = f"{name} {id} was deleted by someone else"
        else:
            text = (f"{name} {id} was changed by someone else (stored version "
                    f"{self.current_version}, yours {expected_version})")
        super().__init__(text)


class DoesNotExist(LookupError):
    """The object is not in the database (raised by ``reload()``)."""


NotFound = DoesNotExist


class DatabaseNotBound(RuntimeError):
    """No database was given and none is bound with ``core.models.bind(db)``."""


class ImproperlyConfigured(TypeError):
    """A model or field declaration is wrong (raised when the class is defined)."""
