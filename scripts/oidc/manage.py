#!/usr/bin/env python3
"""Django's manage.py for the test OpenID provider (scripts/oidc.sh runs it inside its venv)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "idp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
