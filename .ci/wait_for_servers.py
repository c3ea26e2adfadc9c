"""Wait up to 60 seconds for the test database servers, then fail naming
any that is still unreachable. The URLs come from the same variables the
tests read.
"""

from __future__ import annotations

import os
import sys
import time

import sqlalchemy as sa

VARIABLES = ("FLASK_ALEMBIC_TEST_POSTGRESQL_URL", "FLASK_ALEMBIC_TEST_MARIADB_URL")


def reachable(url: str) -> str | None:
    engine = sa.create_engine(url)

    try:
        with engine.connect():
            return None
    except sa.exc.DBAPIError as e:
        return str(e.orig).strip().splitlines()[0]
    finally:
        engine.dispose()


def main() -> int:
    deadline = time.monotonic() + 60
    pending = {name: os.environ[name] for name in VARIABLES}

    while True:
        problems = {name: reachable(url) for name, url in pending.items()}
        pending = {name: pending[name] for name, p in problems.items() if p}

        if not pending:
            print("all database servers are reachable")
            return 0

        if time.monotonic() > deadline:
            for name in pending:
                print(f"{name}: unreachable: {problems[name]}", file=sys.stderr)

            return 1

        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
