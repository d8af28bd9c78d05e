"""Bastion's framework package. Nothing in core/ imports from apps/."""
