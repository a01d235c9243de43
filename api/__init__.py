"""Crosswalk's outer layer: the command line (and, later, the HTTP service).

Imports flow one way: ``api`` → ``policy`` → ``linkage``.
"""

__all__: list[str] = []
