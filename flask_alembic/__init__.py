from .errors import ConfigError
from .errors import DatabaseError
from .errors import DuplicateRevisionIdError
from .errors import FlaskAlembicError
from .errors import MultipleHeadsError
from .errors import NotUpToDateError
from .errors import RevisionError
from .errors import TargetError
from .errors import UnknownBranchError
from .errors import UnknownRevisionError
from .extension import Alembic

__all__ = [
    "Alembic",
    "ConfigError",
    "DatabaseError",
    "DuplicateRevisionIdError",
    "FlaskAlembicError",
    "MultipleHeadsError",
    "NotUpToDateError",
    "RevisionError",
    "TargetError",
    "UnknownBranchError",
    "UnknownRevisionError",
]
