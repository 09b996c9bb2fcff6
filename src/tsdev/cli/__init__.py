"""The ``tsdev`` command line: one module per command, combined in :mod:`tsdev.cli.main`."""
