"""Errors the exporter reports to its user (the CLI prints them without a traceback)."""


class ExporterError(Exception):
    """Base of every error the CLI turns into a one-line message and a non-zero exit."""


class ConfigError(ExporterError):
    """A BERT config or a checkpoint's shapes describe a model this exporter cannot build."""


class CheckpointError(ExporterError):
    """A checkpoint cannot be read or lacks keys a used module needs."""


class PackageError(ExporterError):
    """A model package directory is missing files or is inconsistent."""


class VerificationError(ExporterError):
    """ONNX Runtime outputs differ from PyTorch by more than the tolerance."""
