"""A tiny app for the accounts tests: a model with an extra action (``publish``)."""
