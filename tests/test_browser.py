"""Every page of the built book, opened in headless Chromium with the network off.

A reader opens the HTML from disk (``file://``), possibly with no network. For every
HTML page of the build this checks what such a reader would see:

- the math was typeset by the book's own MathJax copy: a page whose source holds math
  has MathJax output (``mjx-container``), no MathJax error box, and no raw ``\\(``,
  ``\\[`` or ``$$`` left in its visible text (code blocks aside);
- every ``<img>`` loaded (``naturalWidth > 0``);
- every internal link resolves to a file of the build, and its ``#anchor`` to an
  element of the target page;
- no JavaScript error (console errors, uncaught exceptions) and no request that
  tried to leave the machine.

A page with a problem is photographed to ``_build/screenshots/`` of the checkout.

Chromium is Debian's (``/usr/bin/chromium``, or ``$CHROMIUM``), driven by
Playwright's Python client; no browser is ever downloaded. Outside CI the tests skip
when Chromium or Playwright is missing; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_book import ROOT, build_book

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SCREENSHOTS = ROOT / "_build" / "screenshots"
# the flags that run Debian's Chromium as root in a container, with nothing phoning home
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# how long one page may take to load and typeset (ms); a page takes 1-3 s here
PAGE_TIMEOUT_MS = 60_000

# Runs in the page once it has loaded and MathJax has finished: what a reader sees.
INSPECT_PAGE_JS = r"""
() => {
    const skip = "pre, code, script, style, noscript, mjx-container, .highlight";
    const raw = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest(skip)) continue;
        if (!parent.checkVisibility()) continue;
        const text = node.textContent;
        for (const token of ["\\(", "\\[", "$$"]) {
            const at = text.indexOf(token);
            if (at >= 0) raw.push(text.slice(Math.max(0, at - 30), at + 40).trim());
        }
    }
    const images = Array.from(document.images).map(img => ({
        src: img.currentSrc || img.src,
        ok: img.complete && img.naturalWidth > 0,
    }));
    const links = Array.from(document.querySelectorAll("a[href]"))
        .map(a => a.href);
    const ids = Array.from(document.querySelectorAll("[id], a[name]"))
        .map(el => el.id || el.getAttribute("name"));
    return {
        hasMath: document.querySelector(".math, mjx-container") !== null,
        typeset: document.querySelectorAll("mjx-container").length,
        mathErrors: document.querySelectorAll("mjx-merror").length,
        raw, images, links, ids,
    };
}
"""

WAIT_FOR_MATHJAX_JS = """
async () => {
    // Sphinx loads MathJax only on pages with math; wait until it has typeset them
    if (!window.MathJax || !window.MathJax.startup) return false;
    await window.MathJax.startup.promise;
    return true;
}
"""


def _playwright():
    """Import Playwright's sync API, or skip (fail under CI) with the reason."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed (it is in requirements.txt)")
        pytest.skip("playwright is not installed: pip install -r requirements.txt")
    if not Path(CHROMIUM).is_file():
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium to run")
    return sync_playwright


def book_pages(html_root: Path) -> list[Path]:
    """Every HTML page of the build (the theme's own assets under _static excluded)."""
    return sorted(
        p for p in html_root.rglob("*.html") if "_static" not in p.relative_to(html_root).parts
    )


def _visit(page, url: str) -> tuple[dict, list[str]]:
    """Open one page; return what it shows and the errors it raised."""
    errors: list[str] = []

    def on_console(message):
        if message.type == "error":
            errors.append(f"console.error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    source = Path(unquote(urlsplit(url).path)).read_text()
    if re.search(r'<meta\s+http-equiv="refresh"', source, flags=re.IGNORECASE):
        # index.html redirects (meta refresh) to the root page: inspect where it lands
        page.wait_for_url(lambda now: now != url, timeout=PAGE_TIMEOUT_MS)
        page.wait_for_load_state("load")
    mathjax = page.evaluate(WAIT_FOR_MATHJAX_JS)
    # images are requested while the page loads; wait for any that are still arriving
    page.wait_for_function(
        "() => Array.from(document.images).every(i => i.complete)", timeout=PAGE_TIMEOUT_MS
    )
    info = page.evaluate(INSPECT_PAGE_JS)
    info["mathjax"] = mathjax
    return info, errors


@pytest.fixture(scope="module")
def browsed(tmp_path_factory):
    """Open every page of the built book once; return {page: (inspection, errors)}."""
    sync_playwright = _playwright()
    html_root = build_book(tmp_path_factory)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # no stale pictures of an earlier run
    pages = book_pages(html_root)
    external: list[str] = []
    report = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # a fresh profile per run (Playwright's launch); the network is switched off
            context = browser.new_context(offline=True)

            # and any http(s) request is refused and recorded before it leaves
            def refuse(route):
                external.append(route.request.url)
                route.abort("internetdisconnected")

            context.route(re.compile(r"^https?://"), refuse)
            for path in pages:
                page = context.new_page()
                url = path.as_uri()
                info, errors = _visit(page, url)
                report[path] = (info, errors)
                page.close()
            report["__external__"] = external
            yield html_root, report, context
        finally:
            browser.close()


def _screenshot_failures(context, failures: dict[Path, list[str]], html_root: Path) -> str:
    """Save a full-page screenshot of each failing page; return where they are."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in failures:
        name = str(path.relative_to(html_root)).replace(os.sep, "__").removesuffix(".html")
        page = context.new_page()
        try:
            page.goto(path.as_uri(), wait_until="load", timeout=PAGE_TIMEOUT_MS)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        finally:
            page.close()
    return f"screenshots in {SCREENSHOTS}"


def _assert_no_failures(browsed, failures: dict[Path, list[str]], what: str) -> None:
    html_root, _, context = browsed
    if failures:
        where = _screenshot_failures(context, failures, html_root)
        lines = []
        for path, problems in failures.items():
            page = path.relative_to(html_root)
            lines += [f"{page}: {problem}" for problem in problems[:5]]
            if len(problems) > 5:
                lines.append(f"{page}: ... and {len(problems) - 5} more")
        pytest.fail(f"{what} ({where}):\n" + "\n".join(lines))


def _pages(browsed):
    _, report, _ = browsed
    return {path: value for path, value in report.items() if isinstance(path, Path)}


def test_every_page_of_the_build_was_opened(browsed):
    html_root, report, _ = browsed
    opened = set(_pages(browsed))
    assert opened == set(book_pages(html_root))
    # the chapters are among them (a sanity check on the page discovery itself)
    assert html_root / "book" / "04_probabilistic_mf.html" in opened
    assert report["__external__"] == [], (
        f"pages tried to reach the network: {report['__external__']}"
    )


def test_math_is_typeset_on_every_page(browsed):
    failures = {}
    for path, (info, _) in _pages(browsed).items():
        problems = []
        if info["hasMath"] and not info["mathjax"]:
            problems.append("the page has math but MathJax was not loaded")
        elif info["hasMath"] and info["typeset"] == 0:
            problems.append("the page has math but MathJax typeset none of it")
        if info["mathErrors"]:
            problems.append(f"{info['mathErrors']} MathJax error(s) (mjx-merror)")
        problems += [f"raw LaTeX in the text: {snippet!r}" for snippet in info["raw"]]
        if problems:
            failures[path] = problems
    _assert_no_failures(browsed, failures, "math not typeset")
    # the checks above mean something only if pages do carry math
    typeset = {p.name: info["typeset"] for p, (info, _) in _pages(browsed).items()}
    assert typeset["04_probabilistic_mf.html"] > 50, typeset


def test_every_image_loads(browsed):
    failures = {}
    for path, (info, _) in _pages(browsed).items():
        broken = [img["src"] for img in info["images"] if not img["ok"]]
        if broken:
            failures[path] = [f"image did not load: {src}" for src in broken]
    n_images = sum(len(info["images"]) for info, _ in _pages(browsed).values())
    assert n_images > 0
    _assert_no_failures(browsed, failures, "broken images")


def _resolve(link: str) -> tuple[Path, str] | None:
    """The build file and #fragment an internal link points to (None for external links)."""
    parts = urlsplit(link)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path)), unquote(parts.fragment)


def test_every_internal_link_and_anchor_resolves(browsed):
    pages = _pages(browsed)
    ids = {path: set(info["ids"]) for path, (info, _) in pages.items()}
    failures = {}
    n_checked = 0
    for path, (info, _) in pages.items():
        problems = []
        for link in info["links"]:
            target = _resolve(link)
            if target is None:
                continue
            n_checked += 1
            file, fragment = target
            if not file.exists():
                problems.append(f"link to a missing file: {link}")
            elif fragment and file.suffix == ".html":
                anchors = ids.get(file)
                if anchors is None:
                    problems.append(f"link to a page outside the build: {link}")
                elif fragment not in anchors:
                    problems.append(f"link to a missing anchor: {link}")
        if problems:
            failures[path] = sorted(set(problems))
    assert n_checked > 0
    _assert_no_failures(browsed, failures, "broken internal links")


def test_no_javascript_errors(browsed):
    failures = {path: errors for path, (_, errors) in _pages(browsed).items() if errors}
    _assert_no_failures(browsed, failures, "JavaScript errors")
