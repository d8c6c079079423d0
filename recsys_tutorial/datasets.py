"""Data sets: MovieLens 100K and synthetic ratings from the PMF generative model.

MovieLens 100K (Harper & Konstan, 2015) may not be redistributed, so the loader
never ships it: it reads ``<data_home>/ml-100k/``, where ``data_home`` is the
argument, else the environment variable ``RECSYS_TUTORIAL_DATA``, else a
per-user cache folder.  When the files are absent it downloads the official
archive from GroupLens once, verifies its size and SHA-256, and writes every
file atomically (a temporary file renamed into place), so an interrupted
download never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import Ratings
from .ids import IdMap
from .utils import check_random_state

__all__ = [
    "MovieInfo",
    "RemoteArchive",
    "SyntheticData",
    "default_data_home",
    "load_movielens_100k",
    "load_movielens_100k_movies",
    "make_synthetic",
]

DATA_ENV_VAR = "RECSYS_TUTORIAL_DATA"


@dataclass(frozen=True)
class RemoteArchive:
    """Where an archive lives and how to recognise a good copy of it."""

    url: str
    size: int
    sha256: str
    folder: str
    #: SHA-256 of the files that are verified before every use
    file_sha256: dict


MOVIELENS_100K = RemoteArchive(
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    size=4_924_029,
    sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    folder="ml-100k",
    file_sha256={"u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"},
)

#: The 19 genre flags of ``u.item``, in file order.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def default_data_home() -> Path:
    """Where data sets live: ``$RECSYS_TUTORIAL_DATA`` if set, else a user cache folder."""
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "recsys_tutorial"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(dest: Path, chunks) -> None:
    """Write the byte chunks to ``dest`` through a temporary file in the same folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def _download(archive: RemoteArchive, dest: Path) -> None:
    """Download ``archive`` to ``dest``, verifying size and SHA-256 before it is renamed."""
    digest = hashlib.sha256()
    received = 0

    def chunks():
        nonlocal received
        with urllib.request.urlopen(archive.url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 16), b""):
                digest.update(block)
                received += len(block)
                yield block
        if received != archive.size or digest.hexdigest() != archive.sha256:
            raise OSError(
                f"download of {archive.url} failed verification: got {received} bytes with "
                f"SHA-256 {digest.hexdigest()}, expected {archive.size} bytes with SHA-256 "
                f"{archive.sha256}; nothing was kept, try again later or download it by hand"
            )

    _atomic_write(dest, chunks())


def _fetch(archive: RemoteArchive, data_home: Path, needed: tuple[str, ...]) -> Path:
    """Make sure ``needed`` files of ``archive`` are in ``data_home/folder``; return the folder."""
    folder = data_home / archive.folder
    if all((folder / name).is_file() for name in needed):
        return folder
    zip_path = data_home / Path(archive.url).name
    if not zip_path.is_file():
        _download(archive, zip_path)
    elif _sha256(zip_path) != archive.sha256:
        raise OSError(
            f"{zip_path} is not the expected archive (SHA-256 {_sha256(zip_path)}, expected "
            f"{archive.sha256}); delete it and call the loader again to download a fresh copy"
        )
    with zipfile.ZipFile(zip_path) as zf:
        for name in needed:
            # only members we name are extracted, so the archive cannot write elsewhere
            member = f"{archive.folder}/{name}"
            with zf.open(member) as src:
                _atomic_write(folder / name, iter(lambda: src.read(1 << 16), b""))
    return folder


def _verified(archive: RemoteArchive, folder: Path, name: str) -> Path:
    path = folder / name
    expected = archive.file_sha256.get(name)
    if expected is not None:
        actual = _sha256(path)
        if actual != expected:
            raise ValueError(
                f"{path} is corrupted or truncated: its SHA-256 is {actual} "
                f"({path.stat().st_size} bytes) but the official file's is {expected}. "
                f"Delete {folder} and call the loader again to download a fresh copy "
                f"(or restore it from {archive.url})."
            )
    return path


def _resolve_home(data_home: str | os.PathLike | None) -> Path:
    if data_home is None:
        return default_data_home()
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"data_home must be a path or None; got {type(data_home).__name__}")
    return Path(data_home).expanduser()


def load_movielens_100k(data_home: str | os.PathLike | None = None) -> Ratings:
    """Load the 100,000 ratings of MovieLens 100K (943 users, 1,682 movies, 1-5 stars).

    Parameters
    ----------
    data_home : path, optional
        Folder that holds (or will hold) ``ml-100k/``.  Default:
        ``$RECSYS_TUTORIAL_DATA`` if set, else ``~/.cache/recsys_tutorial``.

    Returns
    -------
    Ratings
        With timestamps (Unix seconds).  Index ``i`` is the user with raw id
        ``i + 1`` and index ``j`` the movie with raw id ``j + 1`` (the raw ids
        are kept in ``user_ids`` / ``item_ids``).  The raw ids are the integers
        of ``u.data`` (int64), and lookups take integers: ``r.user_index(196)``
        is user 196's index, while ``r.user_index("196")`` raises a
        :class:`TypeError` that says to pass ``196``.

    Raises
    ------
    ValueError
        If ``u.data`` does not match the official file's SHA-256.
    OSError
        If the files are absent and the download fails or does not verify.
    """
    folder = _fetch(MOVIELENS_100K, _resolve_home(data_home), ("u.data", "u.item", "u.user"))
    path = _verified(MOVIELENS_100K, folder, "u.data")
    table = np.array(path.read_bytes().split(), dtype=np.int64).reshape(-1, 4)
    return Ratings.from_ids(table[:, 0], table[:, 1], table[:, 2], timestamps=table[:, 3])


@dataclass(frozen=True)
class MovieInfo:
    """Titles and genres of the MovieLens 100K movies, indexed like the ratings' items.

    Row ``j`` describes the movie with raw id ``ids[j]``, which is also item index
    ``j`` of :func:`load_movielens_100k`.  The lookups by raw id go from a
    recommender's output back to titles without index bookkeeping::

        items, _ = model.recommend(r.user_index(196), k=5)   # item indices
        movies.titles_of(r.item_ids_of(items))               # their titles
    """

    titles: np.ndarray  #: str, shape (n_items,)
    years: np.ndarray  #: int, release year parsed from the title, -1 when absent
    genres: np.ndarray  #: bool, shape (n_items, 19)
    genre_names: tuple  #: the 19 genre names, in column order
    ids: np.ndarray  #: int64, the raw movie id of each row
    _map: IdMap = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.titles):
            raise ValueError(
                f"ids must have one id per title ({len(self.titles)}); got {len(self.ids)}"
            )
        object.__setattr__(self, "_map", IdMap("movie", self.ids))

    def index(self, raw_id: Any) -> int:
        """Row (= item index) of the movie with raw id ``raw_id`` (an int)."""
        return self._map.index(raw_id)

    def indices(self, raw_ids: Any) -> np.ndarray:
        """Rows (int64, same shape) of many raw movie ids."""
        return self._map.indices(raw_ids)

    def title(self, raw_id: Any) -> str:
        """Title of the movie with raw id ``raw_id``."""
        return str(self.titles[self._map.index(raw_id)])

    def titles_of(self, raw_ids: Any) -> np.ndarray:
        """Titles (same shape) of many raw movie ids, e.g. the raw ids of a top-k list."""
        return self.titles[self._map.indices(raw_ids)]


def load_movielens_100k_movies(data_home: str | os.PathLike | None = None) -> MovieInfo:
    """Titles, years and the 19 genre flags of the 1,682 movies (``u.item``, Latin-1)."""
    folder = _fetch(MOVIELENS_100K, _resolve_home(data_home), ("u.data", "u.item", "u.user"))
    lines = (folder / "u.item").read_text(encoding="latin-1").splitlines()
    rows = [line.split("|") for line in lines if line.strip()]
    bad = [k for k, row in enumerate(rows) if len(row) != 5 + len(GENRES)]
    if bad:
        raise ValueError(
            f"{folder / 'u.item'} is malformed: line {bad[0] + 1} has {len(rows[bad[0]])} fields, "
            f"expected {5 + len(GENRES)}; delete {folder} and load again"
        )
    ids = np.array([int(row[0]) for row in rows])
    if not np.array_equal(ids, np.arange(1, len(rows) + 1)):
        raise ValueError(
            f"{folder / 'u.item'} is malformed: movie ids are not 1..{len(rows)} in order"
        )
    titles = np.array([row[1].strip() for row in rows])
    years = np.array([_year(title) for title in titles])
    genres = np.array([[flag == "1" for flag in row[5:]] for row in rows], dtype=bool)
    return MovieInfo(titles=titles, years=years, genres=genres, genre_names=GENRES, ids=ids)


def _year(title: str) -> int:
    """The year in a trailing ``(YYYY)`` of a title, or -1."""
    title = title.rstrip()
    if len(title) >= 6 and title[-1] == ")" and title[-6] == "(" and title[-5:-1].isdigit():
        return int(title[-5:-1])
    return -1


@dataclass(frozen=True)
class SyntheticData:
    """Ratings drawn from the PMF model, with the parameters that generated them."""

    ratings: Ratings
    U: np.ndarray  #: true user factors, shape (n_users, n_factors)
    V: np.ndarray  #: true item factors, shape (n_items, n_factors)
    sigma: float  #: true noise standard deviation
    mean: float  #: constant added to every rating


def make_synthetic(
    n_users: int = 200,
    n_items: int = 300,
    n_factors: int = 5,
    density: float = 0.1,
    sigma: float = 0.5,
    random_state=None,
    *,
    sigma_u: float = 1.0,
    sigma_v: float = 1.0,
    mean: float = 0.0,
) -> SyntheticData:
    """Draw ratings from the PMF generative model.

    .. math::

        U_i \\sim \\mathcal{N}(0, \\sigma_U^2 I),\\quad
        V_j \\sim \\mathcal{N}(0, \\sigma_V^2 I),\\quad
        R_{ij} = \\text{mean} + U_i^\\top V_j + \\varepsilon_{ij},\\quad
        \\varepsilon_{ij} \\sim \\mathcal{N}(0, \\sigma^2),

    observed on a set :math:`\\Omega` of ``round(density * n_users * n_items)``
    pairs drawn uniformly without replacement.

    Returns
    -------
    SyntheticData
        ``ratings`` plus the true ``U``, ``V``, ``sigma`` and ``mean``.
    """
    for name, value in (("n_users", n_users), ("n_items", n_items), ("n_factors", n_factors)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1]; got {density!r}")
    for name, value in (("sigma", sigma), ("sigma_u", sigma_u), ("sigma_v", sigma_v)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    rng = check_random_state(random_state)
    U = rng.normal(0.0, sigma_u, size=(n_users, n_factors))
    V = rng.normal(0.0, sigma_v, size=(n_items, n_factors))
    nnz = max(1, round(density * n_users * n_items))
    cells = np.sort(rng.choice(n_users * n_items, size=nnz, replace=False))
    users, items = cells // n_items, cells % n_items
    values = mean + np.einsum("ij,ij->i", U[users], V[items]) + rng.normal(0.0, sigma, size=nnz)
    ratings = Ratings(users, items, values, n_users=n_users, n_items=n_items)
    return SyntheticData(ratings=ratings, U=U, V=V, sigma=float(sigma), mean=float(mean))
