"""Who the command line acts as, and the service context it acts on.

The command line runs in local mode: the acting user is named from ``CXROI_USER`` or the
operating-system login and holds every role (whoever can run ``cxroi`` on this machine can read and
write its store and models folder anyway). The name is what the audit trail, saved scenarios and
decision records show. A background job the app starts for a signed-in user (retraining) runs the
command with ``CXROI_USER`` and ``CXROI_USER_SUBJECT`` set to that user's name and identity subject,
so its audit rows name that user; the app checks the user's permission before it starts the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxroi.service import Context, User


SUBJECT_ENV = "CXROI_USER_SUBJECT"


def cli_user() -> User:
    """The local-mode user the command acts as (every role); its subject is ``CXROI_USER_SUBJECT``
    when set (a job run for a signed-in user of the app)."""
    import dataclasses
    import os

    from cxroi.service import local_user

    user = local_user()
    subject = os.environ.get(SUBJECT_ENV, "").strip()
    return dataclasses.replace(user, subject=subject) if subject else user


def context(models_dir: Path | None = None) -> Context:
    """The store (``CXROI_DATABASE_URL``, else SQLite under ``CXROI_HOME`` or ./.cxroi) and the
    models folder (``models_dir``, else ``CXROI_MODELS_DIR`` or models/)."""
    from cxroi.service import Context

    return Context.from_environment(models_dir=models_dir)
