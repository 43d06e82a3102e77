"""Read an artifact's parameter draws (``draws.npz``) without trusting it.

Before anything is decompressed or allocated: the file must be a regular file (not a symbolic
link, device or folder); its members must be exactly the ``<name>.npy`` arrays of
:data:`cxroi.params.PARAMETERS` (an unexpected member is refused, never loaded); each member's
declared size (zip header) and its ``.npy`` header (a two-dimensional float64 array of the
expected width whose data fits that declared size) are checked against the limit. Sizes are in
bytes; the limit is ``CXROI_MAX_DRAWS_MB`` megabytes (2**20 bytes) of decompressed draws.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cxroi.errors import ArtifactError
from cxroi.fileio import megabytes_setting

#: setting (environment variable) for the largest decompressed size of a model's draws, in MB
LIMIT_SETTING = "CXROI_MAX_DRAWS_MB"
DEFAULT_MAX_DRAWS_MB = 2048
_HEADER_BYTES = 4096  # room for a member's .npy header beyond its data


def max_draws_bytes() -> int:
    """The draws size limit in bytes, read from CXROI_MAX_DRAWS_MB when called."""
    return megabytes_setting(LIMIT_SETTING, DEFAULT_MAX_DRAWS_MB, ArtifactError)


def require_regular_file(path: Path) -> None:
    """Refuse a path that is a symbolic link or not a regular file (FileNotFoundError when absent)."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise ArtifactError(f"{path}: is a symbolic link; a model's files must be real files inside its folder")
    if not stat.S_ISREG(mode):
        raise ArtifactError(f"{path}: is not a regular file")


def read_draws(path: Path, widths: Mapping[str, int], n_draws: int | None) -> dict[str, np.ndarray]:
    """The arrays named in ``widths`` (parameter → segments or initiatives) from ``path``, each
    checked before loading; ``n_draws`` (from the manifest, when recorded) bounds each member's
    size further. Raises :class:`ArtifactError` naming the file and the member."""
    require_regular_file(path)
    budget = max_draws_bytes()
    expected = {f"{name}.npy": name for name in widths}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            extra = sorted(m.filename for m in members if m.filename not in expected)
            if extra:
                raise ArtifactError(f"{path}: holds unexpected member(s) {', '.join(extra)}; a draws file holds only "
                                    "the arrays of the model's parameters, so it was not loaded")
            total = sum(m.file_size for m in members)
            if total > budget:
                raise ArtifactError(f"{path}: its arrays declare {total:,} bytes once decompressed, more than the "
                                    f"{budget:,} bytes allowed ({LIMIT_SETTING})")
            draws = {}
            for member in members:
                name = expected[member.filename]
                _check_member(path, archive, member, widths[name], n_draws)
                with archive.open(member) as stream:
                    draws[name] = np.lib.format.read_array(stream, allow_pickle=False)
            return draws
    except ArtifactError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise ArtifactError(f"{path}: unreadable parameter draws ({exc})") from exc


def _check_member(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo, width: int,
                  n_draws: int | None) -> None:
    where = f"{path}: member {member.filename}"
    if n_draws is not None and member.file_size > 8 * n_draws * width + _HEADER_BYTES:
        raise ArtifactError(f"{where} declares {member.file_size:,} bytes, more than {n_draws} draws × {width} "
                            "values of 8 bytes; it was not loaded")
    with archive.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ArtifactError(f"{where} has an unsupported .npy format version {version}")
        shape, _, dtype = read_header(stream, max_header_size=_HEADER_BYTES)
    if dtype != np.dtype("<f8") or len(shape) != 2:
        raise ArtifactError(f"{where} is a {dtype} array of shape {shape}; expected float64 of shape (draws, {width})")
    if math.prod(shape) * 8 > member.file_size:
        raise ArtifactError(f"{where} claims shape {shape}, more data than its {member.file_size:,} bytes")
