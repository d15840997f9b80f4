#!/usr/bin/env python
"""Django's command-line utility; starts the embedded servers first unless URLs point elsewhere."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from config import embedded, startup

    embedded.ensure_started()
    try:
        startup.require_database()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"Start-up stopped: {exc}") from None
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
