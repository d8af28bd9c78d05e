"""A test app for the ACL matrix's file cells: dossiers holding one document each, with
the ``own`` scope (the dossiers whose owner is the user) a grant may name."""
