#!/usr/bin/env python3
"""Bastion's command line: ``python manage.py help`` lists the commands."""
import os
import sys


def main():
    os.environ.setdefault("BASTION_SETTINGS", "settings.dev")
    from core.management import main as run
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
