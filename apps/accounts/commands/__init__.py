"""The accounts commands of ``manage.py`` (docs/permissions.md, "The command line").

One module per family, each defining its ``Command`` classes (found by
``core.management``, which skips ``_``-prefixed modules): ``users`` (create,
change the password, activate/deactivate, list), ``perms`` (a user's effective
permissions), ``grants`` (grant/revoke on a user or role), ``roles`` (create,
delete, assign, unassign, list), ``reports`` (``whocan``, ``permmatrix``, and
``sweepgrants`` removing expired grants), ``twofactor`` (``reset2fa``). ``_base`` holds
what they share.

Passwords come from ``--password-stdin`` (one line) or are typed twice at a
terminal, never from the command line. Any unknown user, role, model key or
action, or a rejected password, is one line ``error: ...``, exit 1, and
nothing changed.

``changepassword`` and ``deactivate`` end the user's sessions and revoke every
API token of the user; ``activate`` brings none back. ``deactivate`` refuses the
last active superuser.
"""
