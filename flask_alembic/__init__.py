from .errors import BindOutcome
from .errors import ConfigError
from .errors import DatabaseError
from .errors import DuplicateRevisionIdError
from .errors import FlaskAlembicError
from .errors import MigrationError
from .errors import MultipleHeadsError
from .errors import NotUpToDateError
from .errors import RevisionError
from .errors import TargetError
from .errors import UnknownBindError
from .errors import UnknownBranchError
from .errors import UnknownRevisionError
from .extension import Alembic

__all__ = [
    "Alembic",
    "BindOutcome",
    "ConfigError",
    "DatabaseError",
    "DuplicateRevisionIdError",
    "FlaskAlembicError",
    "MigrationError",
    "MultipleHeadsError",
    "NotUpToDateError",
    "RevisionError",
    "TargetError",
    "UnknownBindError",
    "UnknownBranchError",
    "UnknownRevisionError",
]
