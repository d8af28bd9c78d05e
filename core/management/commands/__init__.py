"""Core's management commands: one module per command, each with a ``Command`` subclass."""
