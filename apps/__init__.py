"""Bastion's pluggable apps. Each app is a package with an ``app.py`` (see core.registry);
listing it in ``INSTALLED_APPS`` turns it on. Core never imports from here."""
