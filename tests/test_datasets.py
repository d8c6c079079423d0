"""Datasets: the MovieLens 100K loader (offline, corrupted, downloaded) and make_synthetic."""

import csv
import hashlib
import http.server
import io
import re
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial import datasets
from recsys_tutorial.datasets import RemoteArchive


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(folder: Path) -> list[str]:
    """Every regular file below ``folder``, as sorted relative paths (hidden ones included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def no_download(monkeypatch):
    """Fail loudly if the code under test tries to open any URL."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected download attempt: {args}")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", refuse)


# ------------------------------------------------------------- real MovieLens 100K
def test_movielens_100k_has_the_published_shape(movielens):
    r = movielens
    assert isinstance(r, rt.Ratings)
    assert len(r) == 100_000 and r.n_users == 943 and r.n_items == 1682
    assert r.users.dtype == np.int64 and r.items.dtype == np.int64 and r.values.dtype == np.float64
    assert set(np.unique(r.values)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert r.timestamps is not None and r.timestamps.shape == (100_000,)
    # the ratings were collected between September 1997 and April 1998
    assert 874_000_000 < r.timestamps.min() < r.timestamps.max() < 894_000_000
    # index i is the raw id i + 1, for users and movies
    np.testing.assert_array_equal(r.user_ids, np.arange(1, 944))
    np.testing.assert_array_equal(r.item_ids, np.arange(1, 1683))
    assert r.user_ids[0] == 1 and r.user_index(1) == 0 and r.item_index(1682) == 1681
    # every user of MovieLens 100K has at least 20 ratings
    assert r.user_counts().min() >= 20


def test_movielens_100k_matches_a_naive_parse_of_u_data(movielens):
    # an independent reading of the file: text lines split on tabs, ids minus one
    path = Path(rt.datasets.default_data_home()) / "ml-100k" / "u.data"
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert rows[0] == ["196", "242", "3", "881250949"]
    table = np.array(rows, dtype=np.int64)
    np.testing.assert_array_equal(movielens.users, table[:, 0] - 1)
    np.testing.assert_array_equal(movielens.items, table[:, 1] - 1)
    np.testing.assert_array_equal(movielens.values, table[:, 2])
    np.testing.assert_array_equal(movielens.timestamps, table[:, 3])


def test_movielens_100k_movies():
    movies = rt.datasets.load_movielens_100k_movies()
    assert movies.titles.shape == (1682,)
    assert movies.genres.shape == (1682, 19) and movies.genres.dtype == bool
    assert len(movies.genre_names) == 19 and movies.genre_names[0] == "unknown"
    # raw id 1 (index 0): Toy Story, an animated children's comedy of 1995
    assert movies.titles[0] == "Toy Story (1995)"
    assert movies.years[0] == 1995
    toy_story = {movies.genre_names[g] for g in np.flatnonzero(movies.genres[0])}
    assert toy_story == {"Animation", "Children's", "Comedy"}
    # the file is Latin-1: raw id 543 is "Les Misérables" with its accent
    assert movies.titles[542] == "Misérables, Les (1995)"
    # raw id 267 has the title "unknown": no year, only the "unknown" genre
    assert movies.titles[266] == "unknown" and movies.years[266] == -1
    assert np.array_equal(np.flatnonzero(movies.genres[266]), [0])
    assert np.all((movies.years == -1) | ((movies.years >= 1900) & (movies.years <= 1998)))


def test_movielens_100k_users_match_a_naive_parse_of_u_user():
    users = rt.datasets.load_movielens_100k_users()
    assert users.ages.shape == (943,) and users.ids.tolist() == list(range(1, 944))
    # the first line of the published file, by hand
    assert (users.ages[0], users.genders[0], users.occupations[0], users.zip_codes[0]) == (
        24, "M", "technician", "85711",
    )  # fmt: skip
    # every field against csv's reading of the file, independent of the loader's split
    path = rt.datasets.default_data_home() / "ml-100k" / "u.user"
    with open(path, encoding="latin-1", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="|"))
    assert len(rows) == 943
    assert users.ages.tolist() == [int(row[1]) for row in rows]
    assert users.genders.tolist() == [row[2] for row in rows]
    assert users.occupations.tolist() == [row[3] for row in rows]
    assert users.zip_codes.tolist() == [row[4] for row in rows]
    assert users.occupation_names == tuple(sorted({row[3] for row in rows}))
    # the README of ml-100k lists 21 occupations
    assert len(users.occupation_names) == 21 and "none" in users.occupation_names


def test_a_damaged_copy_of_u_user_is_refused(movielens_copy, no_download):
    path = movielens_copy / "ml-100k" / "u.user"
    data = path.read_bytes()
    assert data.startswith(b"1|24|M|")
    path.write_bytes(b"1|25|M|" + data[7:])  # still a valid file, one age changed
    with pytest.raises(ValueError, match=r"u\.user is corrupted or truncated"):
        rt.datasets.load_movielens_100k_users(data_home=movielens_copy)


def test_default_data_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(tmp_path / "here"))
    assert rt.datasets.default_data_home() == tmp_path / "here"
    monkeypatch.delenv("RECSYS_TUTORIAL_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert rt.datasets.default_data_home() == tmp_path / "cache" / "recsys_tutorial"
    with pytest.raises(TypeError, match="data_home must be a path or None"):
        rt.datasets.load_movielens_100k(data_home=3)


# --------------------------------------------------------------- corrupted copies
@pytest.fixture
def movielens_copy(tmp_path):
    """A data home holding a copy of the real ml-100k files (to be damaged by the test)."""
    source = rt.datasets.default_data_home() / "ml-100k"
    home = tmp_path / "home"
    (home / "ml-100k").mkdir(parents=True)
    for name in ("u.data", "u.item", "u.user"):
        shutil.copyfile(source / name, home / "ml-100k" / name)
    return home


def expected_refusal(home: Path) -> str:
    """The parts the message must contain: the file, the official checksum, the fix."""
    path = home / "ml-100k" / "u.data"
    official = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
    return (
        rf"(?s){re.escape(str(path))}.*corrupted or truncated.*{official}"
        r".*Delete .*download a fresh copy"
    )


def test_a_copy_of_u_data_with_one_byte_changed_is_refused(movielens_copy, no_download):
    path = movielens_copy / "ml-100k" / "u.data"
    data = bytearray(path.read_bytes())
    # the first rating "196\t242\t3\t..." becomes "196\t242\t4\t...": still a valid file
    assert data[8:9] == b"3"
    data[8:9] = b"4"
    path.write_bytes(bytes(data))
    # (test_an_intact_copy_loads_from_an_explicit_data_home shows the unchanged copy loads)
    with pytest.raises(ValueError, match=expected_refusal(movielens_copy)):
        rt.datasets.load_movielens_100k(data_home=movielens_copy)


def test_a_truncated_copy_of_u_data_is_refused(movielens_copy, no_download):
    path = movielens_copy / "ml-100k" / "u.data"
    data = path.read_bytes()
    # cut at a line end, so the file still parses as whole ratings
    path.write_bytes(data[: data.index(b"\n", len(data) // 2) + 1])
    with pytest.raises(ValueError, match=expected_refusal(movielens_copy)):
        rt.datasets.load_movielens_100k(data_home=movielens_copy)


def test_an_intact_copy_loads_from_an_explicit_data_home(movielens_copy, no_download, monkeypatch):
    monkeypatch.delenv("RECSYS_TUTORIAL_DATA", raising=False)
    r = rt.datasets.load_movielens_100k(data_home=str(movielens_copy))
    assert len(r) == 100_000 and r.shape == (943, 1682)


# ------------------------------------------------------------------ the download
FAKE_U_DATA = b"1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n3\t3\t1\t889237455\n"
FAKE_U_ITEM = "".join(
    f"{k}|{title}|01-Jan-1995||http://example.org/{k}|" + "|".join(flags) + "\n"
    for k, (title, flags) in enumerate(
        [
            ("Toy Story (1995)", ["0"] * 3 + ["1", "1", "1"] + ["0"] * 13),
            ("Misérables, Les (1995)", ["0"] * 8 + ["1"] + ["0"] * 10),
            ("A Film Without Year", ["1"] + ["0"] * 18),
        ],
        start=1,
    )
).encode("latin-1")
FAKE_U_USER = b"1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n"


def build_fake_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("ml-100k/u.data", FAKE_U_DATA)
        zf.writestr("ml-100k/u.item", FAKE_U_ITEM)
        zf.writestr("ml-100k/u.user", FAKE_U_USER)
        zf.writestr("ml-100k/README", b"not extracted: the loader names the members it needs\n")
    return buffer.getvalue()


@pytest.fixture
def fake_server():
    """A local HTTP server on 127.0.0.1 serving the fake archive at /ml-100k.zip.

    Yields ``(base_url, payload, requests)``, where ``requests`` lists the paths
    asked for (one entry per request).
    """
    payload = build_fake_zip()
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if self.path != "/ml-100k.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", payload, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fake_archive(url: str, payload: bytes, **changes) -> RemoteArchive:
    fields = dict(
        url=url,
        size=len(payload),
        sha256=sha256_of(payload),
        folder="ml-100k",
        file_sha256={"u.data": sha256_of(FAKE_U_DATA)},
    )
    fields.update(changes)
    return RemoteArchive(**fields)


def check_fake_ratings(r):
    # raw users 1, 2, 3 -> 0, 1, 2; raw items 1, 2, 3 -> 0, 1, 2
    assert r.shape == (3, 3) and len(r) == 4
    np.testing.assert_array_equal(r.users, [0, 0, 1, 2])
    np.testing.assert_array_equal(r.items, [0, 1, 0, 2])
    np.testing.assert_array_equal(r.values, [5, 3, 4, 1])
    np.testing.assert_array_equal(r.timestamps, [874965758, 876893171, 888550871, 889237455])


def test_download_extracts_verifies_and_happens_once(fake_server, tmp_path, monkeypatch):
    base, payload, requests = fake_server
    monkeypatch.setattr(datasets, "MOVIELENS_100K", fake_archive(f"{base}/ml-100k.zip", payload))
    home = tmp_path / "home"
    check_fake_ratings(rt.datasets.load_movielens_100k(data_home=home))
    assert requests == ["/ml-100k.zip"]
    # the three files, byte for byte, and nothing else (no temporary file left behind)
    assert files_under(home) == [
        "ml-100k.zip",
        "ml-100k/u.data",
        "ml-100k/u.item",
        "ml-100k/u.user",
    ]
    assert (home / "ml-100k" / "u.data").read_bytes() == FAKE_U_DATA
    assert (home / "ml-100k" / "u.item").read_bytes() == FAKE_U_ITEM
    assert (home / "ml-100k" / "u.user").read_bytes() == FAKE_U_USER
    # second load, and the movies: served from disk, no new request
    check_fake_ratings(rt.datasets.load_movielens_100k(data_home=home))
    movies = rt.datasets.load_movielens_100k_movies(data_home=home)
    assert requests == ["/ml-100k.zip"]
    assert list(movies.titles) == [
        "Toy Story (1995)",
        "Misérables, Les (1995)",
        "A Film Without Year",
    ]
    np.testing.assert_array_equal(movies.years, [1995, 1995, -1])
    np.testing.assert_array_equal(np.flatnonzero(movies.genres[0]), [3, 4, 5])
    users = rt.datasets.load_movielens_100k_users(data_home=home)
    assert requests == ["/ml-100k.zip"]
    assert users.ages.tolist() == [24, 53, 23] and users.genders.tolist() == ["M", "F", "M"]
    assert users.occupation_names == ("other", "technician", "writer")


@pytest.mark.parametrize(
    "text, match",
    [
        (b"1|24|M|technician\n", "line 1 has 4 fields, expected 5"),
        (b"1|24|M|writer|1\n3|30|F|other|2\n", r"user ids are not 1\.\.2 in order"),
        (b"1|x|M|writer|1\n", "not a non-negative integer"),
        (b"1|24|X|writer|1\n", "gender 'X' is not M or F"),
    ],
)
def test_a_malformed_u_user_is_refused(text, match, tmp_path, monkeypatch, no_download):
    # an archive that does not pin u.user's digest, so the parser's own checks are reached
    monkeypatch.setattr(
        datasets, "MOVIELENS_100K", fake_archive("http://127.0.0.1:9/none.zip", b"")
    )
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    for name, content in (("u.data", FAKE_U_DATA), ("u.item", b""), ("u.user", text)):
        (folder / name).write_bytes(content)
    with pytest.raises(ValueError, match=match):
        rt.datasets.load_movielens_100k_users(data_home=tmp_path)


def test_the_environment_variable_is_the_default_data_home(fake_server, tmp_path, monkeypatch):
    base, payload, requests = fake_server
    monkeypatch.setattr(datasets, "MOVIELENS_100K", fake_archive(f"{base}/ml-100k.zip", payload))
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(tmp_path / "env-home"))
    check_fake_ratings(rt.datasets.load_movielens_100k())
    assert (tmp_path / "env-home" / "ml-100k" / "u.data").is_file()
    assert len(requests) == 1


@pytest.mark.parametrize(
    "changes",
    [{"sha256": "0" * 64}, {"size": 12345}],
    ids=["wrong-sha256", "wrong-size"],
)
def test_a_download_that_does_not_verify_leaves_nothing(
    fake_server, tmp_path, monkeypatch, changes
):
    base, payload, requests = fake_server
    monkeypatch.setattr(
        datasets, "MOVIELENS_100K", fake_archive(f"{base}/ml-100k.zip", payload, **changes)
    )
    home = tmp_path / "home"
    with pytest.raises(OSError, match=r"failed verification.*nothing was kept"):
        rt.datasets.load_movielens_100k(data_home=home)
    assert requests == ["/ml-100k.zip"]
    assert files_under(home) == []  # no zip, no .part file, no extracted file


def test_a_server_error_is_an_os_error_and_leaves_nothing(fake_server, tmp_path, monkeypatch):
    base, payload, _ = fake_server
    monkeypatch.setattr(datasets, "MOVIELENS_100K", fake_archive(f"{base}/missing.zip", payload))
    home = tmp_path / "home"
    with pytest.raises(OSError, match="404"):
        rt.datasets.load_movielens_100k(data_home=home)
    assert files_under(home) == []


def test_a_file_url_works(tmp_path, monkeypatch):
    payload = build_fake_zip()
    source = tmp_path / "mirror" / "ml-100k.zip"
    source.parent.mkdir()
    source.write_bytes(payload)
    monkeypatch.setattr(datasets, "MOVIELENS_100K", fake_archive(source.as_uri(), payload))
    home = tmp_path / "home"
    check_fake_ratings(rt.datasets.load_movielens_100k(data_home=home))
    assert (home / "ml-100k.zip").read_bytes() == payload


def test_a_stale_archive_in_the_data_home_is_refused(tmp_path, monkeypatch, no_download):
    payload = build_fake_zip()
    monkeypatch.setattr(
        datasets, "MOVIELENS_100K", fake_archive("https://invalid.example/ml-100k.zip", payload)
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / "ml-100k.zip").write_bytes(payload[:-10])
    with pytest.raises(OSError, match=r"ml-100k\.zip is not the expected archive.*delete it"):
        rt.datasets.load_movielens_100k(data_home=home)


def test_a_good_archive_already_in_the_data_home_is_extracted_without_download(
    tmp_path, monkeypatch, no_download
):
    payload = build_fake_zip()
    monkeypatch.setattr(
        datasets, "MOVIELENS_100K", fake_archive("https://invalid.example/ml-100k.zip", payload)
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / "ml-100k.zip").write_bytes(payload)
    check_fake_ratings(rt.datasets.load_movielens_100k(data_home=home))


# ----------------------------------------------------------------- make_synthetic
def test_make_synthetic_shapes_density_and_determinism():
    data = rt.datasets.make_synthetic(50, 60, n_factors=4, density=0.1, sigma=0.3, random_state=7)
    r = data.ratings
    assert data.U.shape == (50, 4) and data.V.shape == (60, 4)
    assert r.shape == (50, 60)
    assert len(r) == 300  # round(0.1 * 50 * 60), exactly: pairs are drawn without replacement
    assert data.sigma == 0.3 and data.mean == 0.0
    again = rt.datasets.make_synthetic(50, 60, n_factors=4, density=0.1, sigma=0.3, random_state=7)
    for a, b in (
        (r.users, again.ratings.users),
        (r.items, again.ratings.items),
        (r.values, again.ratings.values),
        (data.U, again.U),
        (data.V, again.V),
    ):
        assert np.array_equal(a, b)
    other = rt.datasets.make_synthetic(50, 60, n_factors=4, density=0.1, sigma=0.3, random_state=8)
    assert not np.array_equal(other.U, data.U)
    assert not np.array_equal(other.ratings.items, r.items)
    assert len(rt.datasets.make_synthetic(7, 9, density=1.0, random_state=0).ratings) == 63


def test_make_synthetic_residuals_have_the_noise_level():
    sigma, mean = 0.5, 3.5
    data = rt.datasets.make_synthetic(
        200,
        300,
        n_factors=5,
        density=0.1,
        sigma=sigma,
        random_state=0,
        sigma_u=1.5,
        sigma_v=0.8,
        mean=mean,
    )
    r = data.ratings
    residuals = r.values - mean - np.sum(data.U[r.users] * data.V[r.items], axis=1)
    n = residuals.size
    assert n == 6000
    # With n = 6000 Gaussian residuals the sample std has a relative standard error of
    # about 1 / sqrt(2 n) = 0.0091; 5 standard errors (4.6%) makes a false failure
    # practically impossible (p < 1e-6) while a wrong sigma (e.g. sigma^2 used as the std,
    # off by a factor 2 here) is far outside.  The mean has standard error sigma / sqrt(n).
    assert residuals.std() == pytest.approx(sigma, rel=5 / np.sqrt(2 * n))
    assert abs(residuals.mean()) < 5 * sigma / np.sqrt(n)
    # the factors have the prior scales (1000 and 1500 draws: rel. s.e. 2.2% and 1.8%, 5 s.e.)
    assert data.U.std() == pytest.approx(1.5, rel=5 / np.sqrt(2 * data.U.size))
    assert data.V.std() == pytest.approx(0.8, rel=5 / np.sqrt(2 * data.V.size))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_users": 0}, "n_users must be a positive int"),
        ({"n_factors": 2.5}, "n_factors must be a positive int"),
        ({"density": 0.0}, r"density must be in \(0, 1\]"),
        ({"density": 1.5}, r"density must be in \(0, 1\]"),
        ({"sigma": -1.0}, "sigma must be a positive finite number"),
        ({"sigma_v": np.inf}, "sigma_v must be a positive finite number"),
    ],
)
def test_make_synthetic_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rt.datasets.make_synthetic(random_state=0, **kwargs)


# ------------------------------------------------------ the larger MovieLens releases
# Small fake archives in each release's own layout; the parsed result is compared with
# the rows the test wrote, mapped to indices by hand.
RELEASE_ROWS = [  # (raw user, raw movie, rating, timestamp); raw ids not contiguous on purpose
    (10, 300, 4.0, 978300760),
    (10, 7, 3.5, 978302109),
    (2, 300, 0.5, 1112486027),
    (57, 42, 5.0, 1094785740),
]
# raw users sorted: 2, 10, 57 -> 0, 1, 2; raw movies sorted: 7, 42, 300 -> 0, 1, 2
EXPECTED_USERS = [1, 1, 0, 2]
EXPECTED_ITEMS = [2, 0, 2, 1]
CSV_HEADER = b"userId,movieId,rating,timestamp\n"


def dat_bytes(rows) -> bytes:
    return "".join(f"{u}::{i}::{v:g}::{t}\n" for u, i, v, t in rows).encode("ascii")


def csv_bytes(rows) -> bytes:
    return CSV_HEADER + "".join(f"{u},{i},{v:.1f},{t}\n" for u, i, v, t in rows).encode("ascii")


# loader, archive constant, folder inside the zip, ratings file name, its bytes
RELEASES = {
    "1m": ("load_movielens_1m", "MOVIELENS_1M", "ml-1m", "ratings.dat", dat_bytes),
    "10m": ("load_movielens_10m", "MOVIELENS_10M", "ml-10M100K", "ratings.dat", dat_bytes),
    "20m": ("load_movielens_20m", "MOVIELENS_20M", "ml-20m", "ratings.csv", csv_bytes),
    "25m": ("load_movielens_25m", "MOVIELENS_25M", "ml-25m", "ratings.csv", csv_bytes),
}
# the 1M movie file is Latin-1 (an accented title); it rides along to check it is left alone
LATIN1_MOVIES = "7::Misérables, Les (1995)::Drama\n".encode("latin-1")


def release_zip(release: str, ratings: bytes) -> bytes:
    _, _, folder, name, _ = RELEASES[release]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/{name}", ratings)
        zf.writestr(f"{folder}/movies.dat", LATIN1_MOVIES)
        zf.writestr(f"{folder}/README.txt", b"not extracted\n")
    return buffer.getvalue()


def install_fake_release(monkeypatch, release, url, payload, **changes):
    """Point the release's archive constant at ``url``, with the fake payload's size and digests."""
    _, constant, folder, _, _ = RELEASES[release]
    fields = {"url": url, "size": len(payload), "sha256": sha256_of(payload), "folder": folder}
    fields.update(changes)
    monkeypatch.setattr(datasets, constant, RemoteArchive(file_sha256={}, **fields))


@pytest.fixture(params=sorted(RELEASES))
def release(request):
    return request.param


def test_each_release_is_parsed_in_its_own_format(release, tmp_path, monkeypatch):
    loader, _, folder, name, encode = RELEASES[release]
    ratings = encode(RELEASE_ROWS)
    payload = release_zip(release, ratings)
    mirror = tmp_path / "mirror.zip"
    mirror.write_bytes(payload)
    install_fake_release(monkeypatch, release, mirror.as_uri(), payload)
    home = tmp_path / "home"
    r = getattr(rt.datasets, loader)(data_home=home)
    assert isinstance(r, rt.Ratings) and r.shape == (3, 3) and len(r) == 4
    np.testing.assert_array_equal(r.users, EXPECTED_USERS)
    np.testing.assert_array_equal(r.items, EXPECTED_ITEMS)
    np.testing.assert_array_equal(r.values, [row[2] for row in RELEASE_ROWS])
    np.testing.assert_array_equal(r.timestamps, [row[3] for row in RELEASE_ROWS])
    np.testing.assert_array_equal(r.user_ids, [2, 10, 57])
    np.testing.assert_array_equal(r.item_ids, [7, 42, 300])
    assert r.users.dtype == np.int64 and r.values.dtype == np.float64
    # only the ratings file is extracted, into the release's own folder, byte for byte
    assert files_under(home) == sorted([mirror.name, f"{folder}/{name}"])
    assert (home / folder / name).read_bytes() == ratings


def test_a_release_parses_across_block_boundaries(monkeypatch, tmp_path):
    # many rows parsed in tiny blocks must give the same table as one naive parse
    rng = np.random.default_rng(0)
    rows = [
        (int(u), int(i), float(v) / 2, int(t))
        for u, i, v, t in zip(
            rng.integers(1, 500, 3000),
            rng.integers(1, 900, 3000),
            rng.integers(1, 11, 3000),
            rng.integers(800_000_000, 1_500_000_000, 3000),
        )
    ]
    rows = list({(u, i): (u, i, v, t) for u, i, v, t in rows}.values())  # no duplicate pairs
    path = tmp_path / "ratings.dat"
    path.write_bytes(dat_bytes(rows))
    monkeypatch.setattr(datasets, "_PARSE_BLOCK", 1000)  # not a multiple of any line length
    table = datasets._parse_ratings(path, b"::", None)
    np.testing.assert_array_equal(table, np.array(rows, dtype=float))


def test_the_csv_header_is_checked(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"user,item,rating,time\n1,2,3.0,4\n")
    with pytest.raises(ValueError, match="first line is b'user,item,rating,time'"):
        datasets._parse_ratings(path, b",", CSV_HEADER.rstrip())


def test_a_malformed_line_is_refused(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"1::2::3::4\n1::2::3\n")
    with pytest.raises(ValueError, match=r"ratings\.dat is malformed"):
        datasets._parse_ratings(path, b"::", None)


@pytest.mark.parametrize("which", ["sha256", "md5", "size"])
def test_a_release_whose_digest_or_size_differs_is_refused(which, tmp_path, monkeypatch):
    payload = release_zip("10m", dat_bytes(RELEASE_ROWS))
    mirror = tmp_path / "mirror.zip"
    mirror.write_bytes(payload)
    changes = {
        "sha256": {"sha256": "0" * 64},
        "md5": {"sha256": None, "md5": "0" * 32},
        "size": {"size": len(payload) + 1},
    }[which]
    install_fake_release(monkeypatch, "10m", mirror.as_uri(), payload, **changes)
    home = tmp_path / "home"
    with pytest.raises(OSError, match=r"failed verification.*nothing was kept"):
        rt.datasets.load_movielens_10m(data_home=home)
    assert files_under(home) == []


def test_a_release_verified_by_md5_alone_loads(tmp_path, monkeypatch):
    # 10M and 25M have no published SHA-256: their size and MD5 are what is checked
    payload = release_zip("25m", csv_bytes(RELEASE_ROWS))
    mirror = tmp_path / "mirror.zip"
    mirror.write_bytes(payload)
    md5 = hashlib.md5(payload).hexdigest()
    install_fake_release(monkeypatch, "25m", mirror.as_uri(), payload, sha256=None, md5=md5)
    assert len(rt.datasets.load_movielens_25m(data_home=tmp_path / "home")) == 4


def test_the_checksum_table_is_complete():
    for _, constant, folder, _, _ in RELEASES.values():
        archive = getattr(datasets, constant)
        assert archive.folder == folder
        assert (
            archive.url
            == f"https://files.grouplens.org/datasets/movielens/{Path(archive.url).name}"
        )
        assert archive.size > 1_000_000 and len(archive.md5) == 32
        assert archive.sha256 is None or len(archive.sha256) == 64
    with pytest.raises(ValueError, match="needs a SHA-256 or an MD5"):
        RemoteArchive(url="x", size=1, sha256=None, folder="f", file_sha256={})


@pytest.fixture
def truncating_server():
    """A loopback server that announces more bytes than it sends, then hangs up."""
    payload = release_zip("20m", csv_bytes(RELEASE_ROWS))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ml-20m.zip", payload
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_interrupted_download_leaves_nothing(truncating_server, tmp_path, monkeypatch):
    url, payload = truncating_server
    install_fake_release(monkeypatch, "20m", url, payload)
    home = tmp_path / "home"
    # the connection closes early: the byte count does not match, nothing is kept
    with pytest.raises(OSError, match=r"failed verification: got \d+ bytes"):
        rt.datasets.load_movielens_20m(data_home=home)
    assert files_under(home) == []  # no .part file, no zip, no extracted file


@pytest.mark.parametrize("error", [ConnectionResetError("reset by peer"), KeyboardInterrupt()])
def test_a_download_that_dies_midway_leaves_nothing(error, tmp_path, monkeypatch):
    payload = release_zip("1m", dat_bytes(RELEASE_ROWS))
    install_fake_release(monkeypatch, "1m", "https://invalid.example/ml-1m.zip", payload)

    class Dying(io.BytesIO):
        """The first block arrives, then the connection fails (or the user presses Ctrl-C)."""

        def read(self, n=-1):
            if self.tell() > 0:
                raise error
            return super().read(64)

    monkeypatch.setattr(datasets.urllib.request, "urlopen", lambda *a, **k: Dying(payload))
    home = tmp_path / "home"
    with pytest.raises(type(error)):
        rt.datasets.load_movielens_1m(data_home=home)
    assert files_under(home) == []  # no .part file, no zip, no extracted file


def test_data_home_wins_over_the_environment_variable(tmp_path, monkeypatch, no_download):
    # both folders hold a release; the argument is read, the environment only by default
    for home, rows in ((tmp_path / "arg", RELEASE_ROWS[:2]), (tmp_path / "env", RELEASE_ROWS)):
        (home / "ml-1m").mkdir(parents=True)
        (home / "ml-1m" / "ratings.dat").write_bytes(dat_bytes(rows))
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(tmp_path / "env"))
    assert len(rt.datasets.load_movielens_1m(data_home=tmp_path / "arg")) == 2
    assert len(rt.datasets.load_movielens_1m()) == 4
    with pytest.raises(TypeError, match="data_home must be a path or None"):
        rt.datasets.load_movielens_25m(data_home=1.5)


# --------------------------------------------------------- make_synthetic at scale
def test_the_sparse_sampler_draws_distinct_uniform_cells(monkeypatch):
    monkeypatch.setattr(datasets, "_DENSE_DRAW_LIMIT", 0)  # force the sparse path
    rng = np.random.default_rng(1)
    for n_cells, size in ((10, 10), (10, 7), (1000, 3), (1000, 999), (5000, 1200)):
        cells = datasets._sample_cells(n_cells, size, rng)
        assert cells.size == size and np.all(np.diff(cells) > 0)
        assert cells.min() >= 0 and cells.max() < n_cells
    # uniformity: each of 50 cells is chosen with probability 20/50 = 0.4; over 4000
    # draws each count is Binomial(4000, 0.4): mean 1600, sd 31; a chi-square test of
    # the 50 counts has 49 degrees of freedom (99.9% quantile about 85)
    counts = np.zeros(50)
    for _ in range(4000):
        counts[datasets._sample_cells(50, 20, rng)] += 1
    chi2 = np.sum((counts - 1600) ** 2 / (4000 * 0.4 * 0.6)) * (1 - 20 / 50) / (1 - 1 / 50)
    assert chi2 < 85


def test_make_synthetic_memory_is_linear_in_the_ratings():
    import tracemalloc

    # 40,000 x 20,000 = 8e8 cells (a dense int64 index of them: 6.4 GB); 400,000 ratings
    tracemalloc.start()
    try:
        data = rt.datasets.make_synthetic(40_000, 20_000, n_factors=4, density=5e-4, random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    r = data.ratings
    assert len(r) == 400_000 and r.shape == (40_000, 20_000)
    assert np.unique(r.users * 20_000 + r.items).size == 400_000
    # O(nnz + (m + n) d): a few hundred bytes a rating at most, far below the dense 6.4 GB
    assert peak < 400 * len(r) + 64 * (40_000 + 20_000) * 4
    # the ratings follow the model (noise sd 0.5, with 400,000 residuals: s.e. 0.1%)
    residuals = r.values - np.sum(data.U[r.users] * data.V[r.items], axis=1)
    assert residuals.std() == pytest.approx(0.5, rel=0.01)


# ------------------------------------------------------------ the larger releases' movies
def movies_zip(release: str, name: str, movies: bytes) -> bytes:
    folder = RELEASES[release][2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"{folder}/{name}", movies)
    return buffer.getvalue()


def load_fake_movies(release, name, movies, tmp_path, monkeypatch, **kwargs):
    payload = movies_zip(release, name, movies)
    mirror = tmp_path / f"{release}.zip"
    mirror.write_bytes(payload)
    install_fake_release(monkeypatch, release, mirror.as_uri(), payload)
    return rt.datasets.load_movielens_movies(release, data_home=tmp_path / "home", **kwargs)


def test_1m_movies_are_latin_1_and_follow_item_ids(tmp_path, monkeypatch):
    movies = (
        "300::Misérables, Les (1995)::Drama|Musical\n"
        "7::Toy Story (1995)::Animation|Children's|Comedy\n"
        "42::Untitled::Drama\n"
    ).encode("latin-1")
    info = load_fake_movies(
        "1m", "movies.dat", movies, tmp_path, monkeypatch, item_ids=[7, 42, 300]
    )
    assert list(info.titles) == ["Toy Story (1995)", "Untitled", "Misérables, Les (1995)"]
    np.testing.assert_array_equal(info.ids, [7, 42, 300])
    np.testing.assert_array_equal(info.years, [1995, -1, 1995])
    assert info.genre_names == ("Animation", "Children's", "Comedy", "Drama", "Musical")
    expected = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(info.genres, expected)


def test_20m_movies_are_quoted_utf_8_csv(tmp_path, monkeypatch):
    movies = (
        "movieId,title,genres\n"
        '5,"American President, The (1995)",Comedy|Drama|Romance\n'
        "2,Amélie (Fabuleux destin d'Amélie Poulain) (2001),Comedy|Romance\n"
        "9,Lost Film (1920),(no genres listed)\n"
    ).encode()
    info = load_fake_movies("20m", "movies.csv", movies, tmp_path, monkeypatch)
    # default: every movie, by increasing id
    np.testing.assert_array_equal(info.ids, [2, 5, 9])
    assert info.titles[0] == "Amélie (Fabuleux destin d'Amélie Poulain) (2001)"
    assert info.titles[1] == "American President, The (1995)"
    np.testing.assert_array_equal(info.years, [2001, 1995, 1920])
    assert info.genre_names == ("Comedy", "Drama", "Romance")
    assert not info.genres[2].any()  # "(no genres listed)" is no genre


def test_10m_movies_read_utf_8_where_valid_else_latin_1(tmp_path, monkeypatch):
    movies = "1::Amélie (2001)::Comedy\n".encode() + "2::Misérables (1995)::Drama\n".encode(
        "latin-1"
    )
    info = load_fake_movies("10m", "movies.dat", movies, tmp_path, monkeypatch)
    assert list(info.titles) == ["Amélie (2001)", "Misérables (1995)"]


def test_movies_refuse_unknown_releases_ids_and_malformed_files(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="release must be one of"):
        rt.datasets.load_movielens_movies("100m")
    movies = b"7::Toy Story (1995)::Comedy\n"
    with pytest.raises(ValueError, match="item_ids has 1 ids not in movies.dat, e.g. 8"):
        load_fake_movies("1m", "movies.dat", movies, tmp_path, monkeypatch, item_ids=[7, 8])
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="record 1 has 2 fields, expected 3"):
        load_fake_movies("1m", "movies.dat", b"7::Toy Story\n", tmp_path / "b", monkeypatch)
