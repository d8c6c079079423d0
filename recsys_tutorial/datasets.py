"""Data sets: the MovieLens releases and synthetic ratings from the PMF generative model.

MovieLens (Harper & Konstan, 2015) may not be redistributed, so the loaders
never ship it: each reads ``<data_home>/<release folder>/`` (``ml-100k``,
``ml-1m``, ``ml-10M100K``, ``ml-20m``, ``ml-25m``), where ``data_home`` is the
argument, else the environment variable ``RECSYS_TUTORIAL_DATA``, else a
per-user cache folder.  When the files are absent a loader downloads the
official archive from GroupLens once, verifies its size and digest, and writes
every file atomically (a temporary file renamed into place), so an interrupted
download never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
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
    "UserInfo",
    "default_data_home",
    "load_movielens_1m",
    "load_movielens_10m",
    "load_movielens_20m",
    "load_movielens_25m",
    "load_movielens_100k",
    "load_movielens_100k_movies",
    "load_movielens_100k_users",
    "load_movielens_movies",
    "make_synthetic",
]

DATA_ENV_VAR = "RECSYS_TUTORIAL_DATA"


@dataclass(frozen=True)
class RemoteArchive:
    """Where an archive lives and how to recognise a good copy of it."""

    url: str
    size: int
    #: SHA-256 of the archive; ``None`` where no published value was found, and
    #: then ``md5`` (GroupLens publishes one ``.md5`` file per archive) is checked
    sha256: str | None
    folder: str
    #: SHA-256 of the files that are verified before every use
    file_sha256: dict
    md5: str | None = None

    def __post_init__(self):
        if self.sha256 is None and self.md5 is None:
            raise ValueError(f"{self.url}: an archive needs a SHA-256 or an MD5 to be verified")

    def digests(self) -> dict:
        """The digests a good copy must have, by hashlib algorithm name."""
        return {
            name: value for name, value in (("sha256", self.sha256), ("md5", self.md5)) if value
        }


MOVIELENS_100K = RemoteArchive(
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    size=4_924_029,
    sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    folder="ml-100k",
    file_sha256={
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    },
)

# ---------------------------------------------------------------------------------------------
# THE CHECKSUM TABLE of the larger releases: the one place to update if GroupLens re-issues an
# archive.  Sizes and MD5s are GroupLens's published values (``<archive>.md5`` next to each zip);
# SHA-256s are recorded where a public source gave them (ml-1m, ml-20m).  For ml-10m and ml-25m
# no published SHA-256 was found, so those downloads are verified by size and MD5; put the
# SHA-256 in ``sha256`` once it is known (``_sha256`` of a verified copy) and both are checked.
# ---------------------------------------------------------------------------------------------
_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
MOVIELENS_1M = RemoteArchive(
    url=_GROUPLENS + "ml-1m.zip",
    size=5_917_549,
    sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
    md5="c4d9eecfca2ab87c1945afe126590906",
    folder="ml-1m",
    file_sha256={},
)
MOVIELENS_10M = RemoteArchive(
    url=_GROUPLENS + "ml-10m.zip",
    size=65_566_137,
    sha256=None,  # not found in public sources: see the note above
    md5="ce571fd55effeba0271552578f2648bd",
    folder="ml-10M100K",  # the 10M archive unpacks to this folder, not ml-10m
    file_sha256={},
)
MOVIELENS_20M = RemoteArchive(
    url=_GROUPLENS + "ml-20m.zip",
    size=198_702_078,
    sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
    md5="cd245b17a1ae2cc31bb14903e1204af3",
    folder="ml-20m",
    file_sha256={},
)
MOVIELENS_25M = RemoteArchive(
    url=_GROUPLENS + "ml-25m.zip",
    size=261_978_986,
    sha256=None,  # not found in public sources: see the note above
    md5="6b51fb2759a8657d3bfcbfc42b592ada",
    folder="ml-25m",
    file_sha256={},
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
    return _digests_of(path, ("sha256",))["sha256"]


def _describe(digests: dict) -> str:
    return " and ".join(
        f"{name.upper().replace('SHA', 'SHA-')} {value}" for name, value in digests.items()
    )


def _digests_of(path: Path, names) -> dict:
    hashers = {name: hashlib.new(name) for name in names}
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            for hasher in hashers.values():
                hasher.update(block)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


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
    expected = archive.digests()
    hashers = {name: hashlib.new(name) for name in expected}
    received = 0

    def chunks():
        nonlocal received
        with urllib.request.urlopen(archive.url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 16), b""):
                for hasher in hashers.values():
                    hasher.update(block)
                received += len(block)
                yield block
        got = {name: hasher.hexdigest() for name, hasher in hashers.items()}
        if received != archive.size or got != expected:
            raise OSError(
                f"download of {archive.url} failed verification: got {received} bytes with "
                f"{_describe(got)}, expected {archive.size} bytes with {_describe(expected)}; "
                f"nothing was kept, try again later or download it by hand"
            )

    try:
        _atomic_write(dest, chunks())
    except http.client.HTTPException as exc:  # e.g. IncompleteRead: not an OSError by itself
        raise OSError(f"download of {archive.url} failed ({exc!r}); nothing was kept") from exc


def _fetch(archive: RemoteArchive, data_home: Path, needed: tuple[str, ...]) -> Path:
    """Make sure ``needed`` files of ``archive`` are in ``data_home/folder``; return the folder."""
    folder = data_home / archive.folder
    if all((folder / name).is_file() for name in needed):
        return folder
    zip_path = data_home / Path(archive.url).name
    if not zip_path.is_file():
        _download(archive, zip_path)
    else:
        expected = archive.digests()
        got = _digests_of(zip_path, expected)
        if got != expected:
            raise OSError(
                f"{zip_path} is not the expected archive ({_describe(got)}, expected "
                f"{_describe(expected)}); delete it and call the loader again to download a "
                f"fresh copy"
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


#: Bytes of text parsed at a time: bounds the temporary memory of a parse to a few
#: times this, whatever the file's size (the result itself is O(nnz)).
_PARSE_BLOCK = 1 << 25


def _parse_ratings(path: Path, separator: bytes, header: bytes | None) -> np.ndarray:
    """Parse a ``user<sep>item<sep>rating<sep>timestamp`` file into an (n, 4) float array.

    The file is read in blocks of whole lines; a multi-byte separator (``::``)
    is replaced by a comma so that numpy's compiled text parser reads each
    block.  Ids and Unix timestamps are integers below 2**53, so float64 holds
    them exactly.  ``header``, when given, must be the file's first line.
    """
    parts = []
    with open(path, "rb") as fh:
        if header is not None:
            first = fh.readline().rstrip(b"\r\n")
            if first != header:
                raise ValueError(
                    f"{path} is malformed: its first line is {first!r}, expected {header!r}"
                )
        tail = b""
        while True:
            block = fh.read(_PARSE_BLOCK)
            text = tail + block
            if block:
                cut = text.rfind(b"\n") + 1
                text, tail = text[:cut], text[cut:]
            if text.strip():
                if separator != b",":
                    text = text.replace(separator, b",")
                try:
                    table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.float64, ndmin=2)
                except ValueError as exc:
                    raise ValueError(
                        f"{path} is malformed ({exc}); delete {path.parent} and load again"
                    ) from None
                if table.shape[1] != 4:
                    raise ValueError(
                        f"{path} is malformed: {table.shape[1]} fields a line, expected 4"
                    )
                parts.append(table)
            if not block:
                break
    if not parts:
        raise ValueError(f"{path} holds no ratings; delete {path.parent} and load again")
    return np.concatenate(parts)


def _load_release(
    archive: RemoteArchive, name: str, separator: bytes, header, data_home
) -> Ratings:
    """Fetch ``name`` of ``archive`` if needed, parse it, and index it like MovieLens 100K."""
    folder = _fetch(archive, _resolve_home(data_home), (name,))
    table = _parse_ratings(_verified(archive, folder, name), separator, header)
    ids = table[:, [0, 1, 3]].astype(np.int64)
    return Ratings.from_ids(ids[:, 0], ids[:, 1], table[:, 2], timestamps=ids[:, 2])


_LOADER_DOC = """Load the {count} ratings of MovieLens {label} ({scale}).

    Parameters
    ----------
    data_home : path, optional
        Folder that holds (or will hold) ``{folder}/``.  Default:
        ``$RECSYS_TUTORIAL_DATA`` if set, else ``~/.cache/recsys_tutorial``.

    Returns
    -------
    Ratings
        With timestamps (Unix seconds), read from ``{folder}/{name}`` ({fmt}).
        Users and movies are indexed in increasing order of their raw ids
        (kept in ``user_ids`` / ``item_ids``); only movies with a rating get
        an index.

    Raises
    ------
    ValueError
        If the file is malformed.
    OSError
        If the file is absent and the download fails or does not verify
        (size and digest, see ``MOVIELENS_{key}``).
    """


def load_movielens_1m(data_home: str | os.PathLike | None = None) -> Ratings:
    return _load_release(MOVIELENS_1M, "ratings.dat", b"::", None, data_home)


def load_movielens_10m(data_home: str | os.PathLike | None = None) -> Ratings:
    return _load_release(MOVIELENS_10M, "ratings.dat", b"::", None, data_home)


def load_movielens_20m(data_home: str | os.PathLike | None = None) -> Ratings:
    return _load_release(
        MOVIELENS_20M, "ratings.csv", b",", b"userId,movieId,rating,timestamp", data_home
    )


def load_movielens_25m(data_home: str | os.PathLike | None = None) -> Ratings:
    return _load_release(
        MOVIELENS_25M, "ratings.csv", b",", b"userId,movieId,rating,timestamp", data_home
    )


_DAT = "``::``-separated ``UserID::MovieID::Rating::Timestamp`` lines, no header"
_CSV = "comma-separated ``userId,movieId,rating,timestamp`` with that header line"
for _func, _key, _count, _scale, _name, _fmt in (
    (load_movielens_1m, "1M", "1,000,209", "1-5 stars", "ratings.dat", _DAT),
    (load_movielens_10m, "10M", "10,000,054", "0.5-5 in half stars", "ratings.dat", _DAT),
    (load_movielens_20m, "20M", "20,000,263", "0.5-5 in half stars", "ratings.csv", _CSV),
    (load_movielens_25m, "25M", "25,000,095", "0.5-5 in half stars", "ratings.csv", _CSV),
):  # fmt: skip
    _func.__doc__ = _LOADER_DOC.format(
        count=_count,
        label=_key,
        scale=_scale,
        folder=globals()[f"MOVIELENS_{_key}"].folder,
        name=_name,
        fmt=_fmt,
        key=_key,
    )


@dataclass(frozen=True)
class MovieInfo:
    """Titles and genres of MovieLens movies, indexed like the ratings' items.

    Row ``j`` describes the movie with raw id ``ids[j]``, which is also item index
    ``j`` of :func:`load_movielens_100k` (or of a larger release, with
    :func:`load_movielens_movies` given its ``item_ids``).  The lookups by raw id go from a
    recommender's output back to titles without index bookkeeping::

        items, _ = model.recommend(r.user_index(196), k=5)   # item indices
        movies.titles_of(r.item_ids_of(items))               # their titles
    """

    titles: np.ndarray  #: str, shape (n_items,)
    years: np.ndarray  #: int, release year parsed from the title, -1 when absent
    genres: np.ndarray  #: bool, shape (n_items, n_genres)
    genre_names: tuple  #: the genre names, in column order (19 for 100K)
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


@dataclass(frozen=True)
class UserInfo:
    """Age, gender, occupation and zip code of the MovieLens 100K users, indexed like the ratings.

    Row ``i`` describes the user with raw id ``ids[i] = i + 1``, which is user
    index ``i`` of :func:`load_movielens_100k`.
    """

    ages: np.ndarray  #: int64, age in years, shape (n_users,)
    genders: np.ndarray  #: str, "M" or "F"
    occupations: np.ndarray  #: str, one of ``occupation_names``
    occupation_names: tuple  #: the occupations that occur, sorted
    zip_codes: np.ndarray  #: str (some are not US zip codes, e.g. "T8H1N")
    ids: np.ndarray  #: int64, the raw user id of each row


def load_movielens_100k_users(data_home: str | os.PathLike | None = None) -> UserInfo:
    """The demographics of the 943 users of MovieLens 100K (``u.user``).

    ``u.user`` holds one ``id|age|gender|occupation|zip code`` line per user, ids
    1 to 943 in order; the file is checked against the official SHA-256 before it
    is parsed, as ``u.data`` is.

    Raises
    ------
    ValueError
        If ``u.user`` does not match the official file's SHA-256, or is malformed
        (a line without five fields, ids out of order, a non-integer age, a gender
        other than M/F).
    OSError
        If the files are absent and the download fails or does not verify.
    """
    folder = _fetch(MOVIELENS_100K, _resolve_home(data_home), ("u.data", "u.item", "u.user"))
    path = _verified(MOVIELENS_100K, folder, "u.user")
    rows = [line.split("|") for line in path.read_text(encoding="latin-1").splitlines()]
    rows = [row for row in rows if row != [""]]

    def malformed(problem: str) -> ValueError:
        return ValueError(f"{path} is malformed: {problem}; delete {folder} and load again")

    bad = [k for k, row in enumerate(rows) if len(row) != 5]
    if bad:
        raise malformed(f"line {bad[0] + 1} has {len(rows[bad[0]])} fields, expected 5")
    if not all(row[0].isdigit() and row[1].isdigit() for row in rows):
        raise malformed("an id or an age is not a non-negative integer")
    ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    if not np.array_equal(ids, np.arange(1, len(rows) + 1)):
        raise malformed(f"user ids are not 1..{len(rows)} in order")
    odd = [row[2] for row in rows if row[2] not in ("M", "F")]
    if odd:
        raise malformed(f"gender {odd[0]!r} is not M or F")
    genders = np.array([row[2] for row in rows])
    occupations = np.array([row[3] for row in rows])
    return UserInfo(
        ages=np.array([int(row[1]) for row in rows], dtype=np.int64),
        genders=genders,
        occupations=occupations,
        occupation_names=tuple(sorted(set(occupations.tolist()))),
        zip_codes=np.array([row[4] for row in rows]),
        ids=ids,
    )


#: The movie file of each larger release: its name and how its text is decoded.  1M is
#: Latin-1 (GroupLens's README); 20M and 25M are UTF-8 CSV with quoted titles; for 10M,
#: whose README names no encoding, each line is read as UTF-8 where that is valid and as
#: Latin-1 otherwise.
_MOVIE_FILES = {
    "1m": ("MOVIELENS_1M", "movies.dat", "latin-1"),
    "10m": ("MOVIELENS_10M", "movies.dat", "utf-8, else latin-1"),
    "20m": ("MOVIELENS_20M", "movies.csv", "utf-8"),
    "25m": ("MOVIELENS_25M", "movies.csv", "utf-8"),
}
_NO_GENRE = "(no genres listed)"


def load_movielens_movies(
    release: str, item_ids=None, data_home: str | os.PathLike | None = None
) -> MovieInfo:
    """Titles, years and genres of a larger release's movies (``movies.dat``/``movies.csv``).

    Parameters
    ----------
    release : {"1m", "10m", "20m", "25m"}
    item_ids : array_like of int, optional
        Raw movie ids in the order wanted, typically ``ratings.item_ids`` of the
        release's :class:`Ratings`, so that row ``j`` describes item ``j``.
        Default: every movie of the file, by increasing id.
    data_home : path, optional
        As for the ratings loaders.

    Returns
    -------
    MovieInfo
        ``genre_names`` are the genres that occur, sorted (a movie listed with
        "(no genres listed)" has none); ``ids`` the raw ids of the rows.
    """
    if release not in _MOVIE_FILES:
        raise ValueError(f"release must be one of {sorted(_MOVIE_FILES)}; got {release!r}")
    constant, name, encoding = _MOVIE_FILES[release]
    archive = globals()[constant]
    folder = _fetch(archive, _resolve_home(data_home), (name,))
    raw = (folder / name).read_bytes()
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
        if rows[:1] != [["movieId", "title", "genres"]]:
            raise ValueError(f"{folder / name} is malformed: no movieId,title,genres header")
        rows = rows[1:]
    else:
        lines = raw.splitlines()
        if encoding == "latin-1":
            text = [line.decode("latin-1") for line in lines]
        else:
            text = [_utf8_else_latin1(line) for line in lines]
        rows = [line.split("::") for line in text if line.strip()]
    bad = [k for k, row in enumerate(rows) if len(row) != 3]
    if bad:
        raise ValueError(
            f"{folder / name} is malformed: record {bad[0] + 1} has {len(rows[bad[0]])} fields, "
            f"expected 3; delete {folder} and load again"
        )
    ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    if item_ids is None:
        order = np.argsort(ids, kind="stable")
    else:
        wanted = np.asarray(item_ids, dtype=np.int64)
        position = {movie: k for k, movie in enumerate(ids.tolist())}
        missing = [movie for movie in wanted.tolist() if movie not in position]
        if missing:
            raise ValueError(f"item_ids has {len(missing)} ids not in {name}, e.g. {missing[0]}")
        order = np.array([position[movie] for movie in wanted.tolist()], dtype=np.int64)
    rows = [rows[k] for k in order]
    listed = [[g for g in row[2].split("|") if g and g != _NO_GENRE] for row in rows]
    genre_names = tuple(sorted({g for genres in listed for g in genres}))
    column = {g: k for k, g in enumerate(genre_names)}
    genres = np.zeros((len(rows), len(genre_names)), dtype=bool)
    for k, names in enumerate(listed):
        genres[k, [column[g] for g in names]] = True
    titles = np.array([row[1].strip() for row in rows])
    years = np.array([_year(title) for title in titles], dtype=np.int64)
    return MovieInfo(titles=titles, years=years, genres=genres, genre_names=genre_names,
                     ids=ids[order])  # fmt: skip


def _utf8_else_latin1(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _year(title: str) -> int:
    """The year in a trailing ``(YYYY)`` of a title, or -1."""
    title = title.rstrip()
    if len(title) >= 6 and title[-1] == ")" and title[-6] == "(" and title[-5:-1].isdigit():
        return int(title[-5:-1])
    return -1


#: Up to this many cells, pairs are drawn with ``Generator.choice`` (which permutes
#: the whole population: 32 MB here), so the seeds used in the book keep giving the
#: same data; above it, the sparse sampler below.
_DENSE_DRAW_LIMIT = 1 << 22
_ROWS_PER_CHUNK = 1 << 20


def _sample_cells(n_cells: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct integers drawn uniformly from ``range(n_cells)``, sorted.

    Above :data:`_DENSE_DRAW_LIMIT` cells: draw integers *with* replacement,
    keep the distinct ones, draw again for the shortfall, and finally keep a
    uniformly chosen ``size`` of them.  Every step treats all cells alike
    (the result's law is invariant under relabelling the cells) and the size is
    fixed, so the result is a uniform ``size``-subset, as ``choice`` without
    replacement would give, in :math:`O(\\text{size})` memory.  When more than
    half the cells are wanted, the complement is drawn instead, which keeps
    collisions (and so the number of rounds) small.
    """
    if n_cells <= _DENSE_DRAW_LIMIT:
        return np.sort(rng.choice(n_cells, size=size, replace=False))
    if size > n_cells // 2:
        keep = np.ones(n_cells, dtype=bool)  # n_cells < 2 * size: still O(size)
        keep[_sample_cells(n_cells, n_cells - size, rng)] = False
        return np.flatnonzero(keep)
    cells = np.empty(0, dtype=np.int64)
    while cells.size < size:
        missing = size - cells.size
        # a draw hits an already chosen cell with probability cells.size / n_cells (< 1/2)
        draw = rng.integers(0, n_cells, size=int(missing / (1 - cells.size / n_cells) * 1.02) + 64)
        cells = np.union1d(cells, draw)
    if cells.size > size:
        cells = np.sort(rng.choice(cells, size=size, replace=False))
    return cells


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
    pairs drawn uniformly without replacement.  Memory is
    :math:`O(|\\Omega| + (m + n) d)`: no dense ``n_users x n_items`` array is
    formed (see :func:`_sample_cells`), so 10 million ratings fit in a few
    hundred MB.

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
    cells = _sample_cells(n_users * n_items, nnz, rng)
    users, items = cells // n_items, cells % n_items
    del cells
    dots = np.empty(nnz)
    for start in range(0, nnz, _ROWS_PER_CHUNK):  # U[users] whole would be an nnz x d copy
        part = slice(start, start + _ROWS_PER_CHUNK)
        dots[part] = np.einsum("ij,ij->i", U[users[part]], V[items[part]])
    values = mean + dots + rng.normal(0.0, sigma, size=nnz)
    ratings = Ratings(users, items, values, n_users=n_users, n_items=n_items)
    return SyntheticData(ratings=ratings, U=U, V=V, sigma=float(sigma), mean=float(mean))
