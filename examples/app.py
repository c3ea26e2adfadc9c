"""A small blog app whose database is migrated by flask_alembic.

Run its migrations with ``flask --app examples/app.py db upgrade``. The
database is an SQLite file in ``examples/instance/`` unless ``DATABASE_URL``
names another one.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm

from flask_alembic import Alembic


class Model(orm.DeclarativeBase):
    pass


class User(Model):
    __tablename__ = "user"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(80), unique=True)


class Post(Model):
    __tablename__ = "post"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    author_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey(User.id))
    title: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    body: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


def create_app() -> Flask:
    app = Flask(__name__)
    os.makedirs(app.instance_path, exist_ok=True)
    default_url = f"sqlite:///{os.path.join(app.instance_path, 'blog.sqlite')}"
    engine = sa.create_engine(os.environ.get("DATABASE_URL", default_url))
    # Plain SQLAlchemy: give the extension the engine and the models' metadata.
    # With Flask-SQLAlchemy(-Lite), both are found without arguments.
    Alembic(app, engines=engine, metadatas=Model.metadata)
    return app


app = create_app()
