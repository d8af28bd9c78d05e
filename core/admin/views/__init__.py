"""The admin's pages by kind: ``base`` (every page), ``list``, ``object`` (detail),
``edit`` (add/change), ``delete``; ``display`` holds how values look. The names are
re-exported by ``core.admin.handlers``."""
