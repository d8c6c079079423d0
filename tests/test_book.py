"""The book builds from its stored outputs with Sphinx warnings treated as errors."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


_built_html: list[Path] = []  # the one build of this test session, once made


def build_book(tmp_path_factory) -> Path:
    """Build the HTML book once per test session (tests/test_browser.py reuses it)."""
    if _built_html:
        return _built_html[0]
    out = tmp_path_factory.mktemp("book")
    # copy the sources so a build never writes into the checkout under test
    src = out / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv", "_build", ".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"
        ),
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(src), "--warningiserror", "--keep-going", "--builder", "html"],
        capture_output=True,
        check=False,  # the assert below shows stderr on failure
        text=True,
    )
    assert result.returncode == 0, (
        f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    _built_html.append(src / "_build" / "html")
    return _built_html[0]


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    return build_book(tmp_path_factory)


def test_book_builds_and_opens_on_the_preface(built_book):
    index = (built_book / "index.html").read_text()
    # index.html redirects to the root page of the toc: the preface
    assert "book/preface.html" in index
    preface = (built_book / "book" / "preface.html").read_text()
    assert "Recommender Systems from First Principles" in preface


def test_every_chapter_in_the_toc_is_rendered_with_its_outputs(built_book):
    toc = (ROOT / "_toc.yml").read_text()
    chapters = [line.split("file:")[1].strip() for line in toc.splitlines() if "file:" in line]
    for chapter in chapters:
        page = built_book / f"{chapter}.html"
        assert page.is_file(), f"{chapter} was not rendered"
        notebook = ROOT / f"{chapter}.ipynb"
        if notebook.is_file():
            html = page.read_text()
            assert "cell_output" in html, f"{chapter}: no cell outputs in the HTML"
            assert "<img" in html, f"{chapter}: no figure in the HTML"
            # a glued value that failed to resolve is rendered as an error message
            assert "glue" not in html.lower() or "could not find" not in html.lower()


def test_math_is_served_from_the_book_itself(built_book):
    # every page loads MathJax from the build's own _static/ (offline), never a CDN
    pages = sorted(built_book.rglob("*.html"))
    assert pages
    for page in pages:
        html = page.read_text()
        sources = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html, flags=re.IGNORECASE)
        for src in sources:
            assert "://" not in src, f"{page.name} loads MathJax from {src}"
            assert (page.parent / src.split("?")[0]).is_file(), f"{page.name}: {src} missing"
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_the_api_appendix_documents_every_public_name(built_book):
    import recsys_tutorial

    html = (built_book / "book" / "api.html").read_text()
    documented = set(re.findall(r'<dt class="sig[^"]*" id="([^"]+)"', html))
    linked = set(re.findall(r'<a class="reference internal" href="#([^"]+)"', html))
    expected = []
    for name in recsys_tutorial.__all__:
        obj = getattr(recsys_tutorial, name)
        if isinstance(obj, type(recsys_tutorial)):
            expected += [f"{obj.__name__}.{member}" for member in obj.__all__]
        else:  # a class re-exported at the top level is documented in its own module
            expected.append(f"{obj.__module__}.{obj.__qualname__}")
    assert len(expected) > 50
    # every public name has its entry, and its module's summary table links to it
    assert sorted(set(expected) - documented) == []
    assert sorted(set(expected) - linked) == []


def _chapter_pages(built_book):
    toc = (ROOT / "_toc.yml").read_text()
    chapters = [line.split("file:")[1].strip() for line in toc.splitlines() if "file:" in line]
    return {
        chapter: (built_book / f"{chapter}.html").read_text()
        for chapter in chapters
        if (ROOT / f"{chapter}.ipynb").is_file()
    }


def test_shown_code_holds_no_bookkeeping(built_book):
    # glue calls and the asserts that tie the prose to its numbers live in remove-cell
    # cells: executed by nbval, absent from the HTML
    pages = _chapter_pages(built_book)
    assert len(pages) >= 6
    for chapter, html in pages.items():
        inputs = re.findall(r'<div class="cell_input.*?</pre>', html, flags=re.DOTALL)
        assert inputs, chapter
        code = "\n".join(re.sub(r"<[^>]+>", "", block) for block in inputs)
        assert "glue(" not in code and "glue_number(" not in code, chapter
        assert "_bookkeeping" not in code, chapter


def test_every_figure_of_a_chapter_is_numbered_and_captioned(built_book):
    for chapter, html in _chapter_pages(built_book).items():
        n_images = len(re.findall(r"<img ", html))
        figures = re.findall(r"<figure[^>]*>.*?</figure>", html, flags=re.DOTALL)
        # a numbered caption reads "Fig. <chapter>.<k>"
        captioned = [f for f in figures if re.search(r"Fig\. \d+\.\d+", f)]
        assert n_images > 0, chapter
        # every image of the page (the chapters' only images are cell outputs) sits in
        # a figure with a numbered caption
        assert sum(f.count("<img ") for f in captioned) == n_images, chapter
        # and the text cites every figure ({numref}), not "the figure above"
        # (a numref link, not the caption's own headerlink)
        for label in re.findall(r'<figure[^>]* id="([^"]+)"', html):
            cite = f'href="#{label}"><span class="std std-numref">'
            assert cite in html, f"{chapter}: figure {label} is never cited"
