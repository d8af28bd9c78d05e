"""The shop demo app: customers with an embedded address and orders with lines.

It shows what document models look like in Bastion: a sub-document
(``Customer.address``), a list of sub-documents (``Order.lines``), free-form
dicts (``notes``, ``attributes``), calendar dates and exact decimals (money).
It is in ``INSTALLED_APPS`` by default; ``manage.py runserver`` loads demo data
(``demo.py``) on the first run of the dev settings.
"""
