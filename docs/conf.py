"""Sphinx configuration for flask-testcase.

The build runs with ``-W`` and without network access, so no intersphinx and no
extension that downloads anything.
"""

from __future__ import annotations

import os
import sys

# Build from a checkout even when the package is not installed in the environment.
sys.path.insert(0, os.path.abspath(".."))

import flask_testcase

project = "flask-testcase"
copyright = "2026, flask_testcase contributors"
author = "flask_testcase contributors"
release = flask_testcase.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Type hints name Flask and Werkzeug classes; without intersphinx they cannot be
# linked, and nitpicky mode would turn each one into an error.
nitpicky = False

exclude_patterns = ["_build"]
templates_path: list[str] = []

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"flask-testcase {release}"
