"""The `rapport` command: Django's manage.py, with configuration errors told in one line."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        sys.exit(f"rapport: {error}")
    from django.core.management import execute_from_command_line

    argv = list(argv if argv is not None else sys.argv)
    if len(argv) > 1:
        # `rapport telephony-ami` reads better than Django's module name, telephony_ami.
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
