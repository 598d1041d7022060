"""Run the Flask CLI for one role: ``python -m app field serve``, ``python -m app central ...``."""

from __future__ import annotations

import sys

from flask.cli import FlaskGroup

from app import ROLES, create_app


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ROLES:
        sys.exit(f"usage: python -m app {{{'|'.join(ROLES)}}} COMMAND [ARGS]...")
    role = sys.argv[1]
    cli = FlaskGroup(create_app=lambda: create_app(role), add_default_commands=True)
    cli.main(args=sys.argv[2:], prog_name=f"python -m app {role}")


if __name__ == "__main__":
    main()
