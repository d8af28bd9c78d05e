"""Every model class defined so far, by model key: ``get_model("blog.article")``.

A leaf module (it imports nothing of Bastion): the model metaclass ``remember``s
each concrete class, and a ``ReferenceField`` resolves its target by key here.
Which models are *installed* is the app registry's business (``core.registry``);
this catalog only knows what Python has defined.
"""
import weakref

__all__ = ["all_models", "get_model", "remember"]

_registry = []  # weak references to every concrete model class, in definition order


def remember(cls):
    """Called by the model metaclass for every concrete model class it makes."""
    _registry.append(weakref.ref(cls))


def get_model(key):
    """The model class registered as ``"<app_label>.<model_name>"`` (the latest definition).

    Raises ``LookupError`` if none is defined.
    """
    key = key.lower()
    for ref in reversed(_registry):
        model = ref()
        if model is not None and model._meta.key == key:
            return model
    raise LookupError(f"no model is registered as {key!r}")


def all_models():
    """Every concrete model class defined so far (latest definition per key)."""
    seen = {}
    for ref in _registry:
        model = ref()
        if model is not None:
            seen[model._meta.key] = model
    return list(seen.values())
