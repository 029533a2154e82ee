"""The package version, in one place: the report, the CLI, the web service and the build read it here."""

__version__ = "0.1.0"
