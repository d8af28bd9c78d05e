"""The demo app: blog articles and their categories.

Turn it on with ``"apps.blog"`` in ``INSTALLED_APPS`` (it is on by default). It shows
what an app ships: models (``models.py``), how they appear in the admin
(``admin.py``: list columns, search, filters, a bulk ``publish`` action and the
object rule "only the author deletes"), and demo data (``demo.py``) that
``manage.py runserver`` loads on the first run of the dev settings.
"""
