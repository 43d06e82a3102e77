"""Errors that carry a message meant for the user (CLI and app show them without a traceback)."""

from __future__ import annotations


class CxroiError(Exception):
    """Base class: the message says what is wrong and where, in plain words."""


class DataError(CxroiError):
    """Input data could not be read or failed validation."""


class ArtifactError(CxroiError):
    """A model artifact is missing, corrupt or incompatible."""


class ModelNotFound(ArtifactError):
    """No model of the given id in the models folder."""


class ScenarioError(CxroiError):
    """A scenario file or object is invalid."""


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names what to install."""
