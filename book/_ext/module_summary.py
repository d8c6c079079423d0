"""Sphinx extension: the ``module-summary`` directive of the API appendix.

``module-summary`` takes a module name and renders the autosummary table of
every name in that module's ``__all__``, in that order. The table is built from
``__all__`` at build time, so a name added to the package appears in the book's
API reference without anyone editing the page (the entries themselves come from
``automodule`` with ``:members:``, which honours ``__all__`` too).
"""

from __future__ import annotations

import importlib

from docutils.statemachine import StringList
from sphinx.ext.autosummary import Autosummary


class ModuleSummary(Autosummary):
    """``autosummary`` over ``module.__all__`` (the argument: a module's name)."""

    required_arguments = 1
    has_content = False

    def run(self):
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None)
        if not public:
            raise self.error(f"module-summary: {module_name} defines no __all__")
        # "~" shows the last component only, as the page is already grouped by module
        lines = [f"~{module_name}.{name}" for name in public]
        self.content = StringList(lines, source=f"{module_name}.__all__")
        return super().run()


def setup(app):
    app.setup_extension("sphinx.ext.autosummary")
    app.add_directive("module-summary", ModuleSummary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
