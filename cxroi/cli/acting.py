"""Who the command line acts as, and the service context it acts on.

The command line runs in local mode: the acting user is named from ``CXROI_USER`` or the
operating-system login and holds every role (whoever can run ``cxroi`` on this machine can read and
write its store and models folder anyway). The name is what the audit trail, saved scenarios and
decision records show.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxroi.service import Context, User


def cli_user() -> User:
    """The local-mode user the command acts as (every role)."""
    from cxroi.service import local_user

    return local_user()


def context(models_dir: Path | None = None) -> Context:
    """The store (``CXROI_DATABASE_URL``, else SQLite under ``CXROI_HOME`` or ./.cxroi) and the
    models folder (``models_dir``, else ``CXROI_MODELS_DIR`` or models/)."""
    from cxroi.service import Context

    return Context.from_environment(models_dir=models_dir)
