"""A small blog app with two databases, each with its own migration history.

Blog posts live in the ``default`` bind and user accounts in the ``auth``
bind, as they would when accounts are shared with other services. Run every
bind's migrations with ``flask --app examples/app.py db upgrade``.

Both databases are SQLite files in ``examples/instance/`` unless
``DATABASE_URL`` and ``AUTH_DATABASE_URL`` name others. The revisions of
``default`` are in ``examples/migrations/``, those of ``auth`` in
``examples/migrations/auth/``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm

from flask_alembic import Alembic


class Blog(orm.DeclarativeBase):
    """Models of the ``default`` bind."""


class Auth(orm.DeclarativeBase):
    """Models of the ``auth`` bind."""


class User(Auth):
    __tablename__ = "user"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(80), unique=True)


class Post(Blog):
    __tablename__ = "post"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # A user's id in the auth database: no foreign key crosses databases.
    author_id: orm.Mapped[int] = orm.mapped_column(index=True)
    title: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    body: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


def create_app() -> Flask:
    app = Flask(__name__)
    os.makedirs(app.instance_path, exist_ok=True)

    def sqlite_file(name: str) -> str:
        return f"sqlite:///{os.path.join(app.instance_path, name)}"

    engines = {
        "default": sa.create_engine(
            os.environ.get("DATABASE_URL", sqlite_file("blog.sqlite"))
        ),
        "auth": sa.create_engine(
            os.environ.get("AUTH_DATABASE_URL", sqlite_file("auth.sqlite"))
        ),
    }
    # Declaring "auth" gives it a history of its own: its revisions run on
    # the auth database only and are recorded in its own version table.
    app.config["ALEMBIC"] = {"binds": {"auth": {}}}
    # Plain SQLAlchemy: give the extension the engines and each bind's
    # metadata. With Flask-SQLAlchemy, models with __bind_key__ = "auth" and
    # SQLALCHEMY_BINDS make both arguments unnecessary.
    Alembic(
        app,
        engines=engines,
        metadatas={"default": Blog.metadata, "auth": Auth.metadata},
    )
    return app


app = create_app()
