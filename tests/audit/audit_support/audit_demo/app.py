"""A test app for the audit tests: a model with a secret field, one with row scoping."""
from core.registry import App


class AuditDemoApp(App):
    label = "vault"
    models = "audit_demo.models"
