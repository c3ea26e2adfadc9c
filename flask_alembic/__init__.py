from .errors import BindOutcome
from .errors import ConfigError
from .errors import DatabaseError
from .errors import DuplicateRevisionIdError
from .errors import FlaskAlembicError
from .errors import HistoryError
from .errors import LockTimeoutError
from .errors import MigrationError
from .errors import MultipleHeadsError
from .errors import NotUpToDateError
from .errors import Problem
from .errors import RevisionError
from .errors import TargetError
from .errors import UnknownBindError
from .errors import UnknownBranchError
from .errors import UnknownRevisionError
from .extension import Alembic
from .extension import BindPlan
from .runner import BindRun

__all__ = [
    "Alembic",
    "BindOutcome",
    "BindPlan",
    "BindRun",
    "ConfigError",
    "DatabaseError",
    "DuplicateRevisionIdError",
    "FlaskAlembicError",
    "HistoryError",
    "LockTimeoutError",
    "MigrationError",
    "MultipleHeadsError",
    "NotUpToDateError",
    "Problem",
    "RevisionError",
    "TargetError",
    "UnknownBindError",
    "UnknownBranchError",
    "UnknownRevisionError",
]
