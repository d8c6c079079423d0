"""Sphinx extension: keep every page of the HTML book free of JavaScript errors.

sphinx-thebe and sphinx-togglebutton register inline scripts during the
``env-before-read-docs`` event. Sphinx 7 then lists each of them twice, once with
the file name ``None`` and once with ``''``, so they do not compare equal and both
are rendered: the second ``const THEBE_JS_URL = ...`` is a redeclaration that
throws a ``SyntaxError`` on every page. This extension drops such duplicates from
the script list of each page before it is rendered (order kept, first copy stays).
"""

from __future__ import annotations


def _script_key(script):
    # an inline script has no file (None or '') and carries its code in ``body``
    return (
        script.filename or "",
        script.priority,
        tuple(sorted(script.attributes.items())),
    )


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
