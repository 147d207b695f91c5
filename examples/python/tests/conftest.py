"""pytest setup: the library under test comes from JWTGRANT_LIB; nothing is built here.

    swift build -c release
    JWTGRANT_LIB=$PWD/.build/release/libjwtgrant.so pytest examples/python/tests -q
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # examples/python: the jwtgrant module
sys.path.insert(0, HERE)                    # helpers

import jwtgrant  # noqa: E402
import helpers  # noqa: E402

# JWTGRANT_JSON_CORPUS=FILE appends every token the suite mints or crafts to
# FILE, one a line: the corpus of the JSON differential test
# (Tests/JWTGrantCoreTests/Fixtures/make_json_corpus.sh).
if os.environ.get("JWTGRANT_JSON_CORPUS"):
    _corpus = open(os.environ["JWTGRANT_JSON_CORPUS"], "a")

    def _recording(fn):
        def wrapped(*args, **kwargs):
            token = fn(*args, **kwargs)
            _corpus.write(str(token) + "\n")
            _corpus.flush()
            return token
        return wrapped

    for _name in ("mint", "craft", "resign"):
        setattr(helpers, _name, _recording(getattr(helpers, _name)))


def pytest_sessionstart(session):
    path = os.environ.get("JWTGRANT_LIB")
    if not path:
        raise pytest.UsageError(
            "JWTGRANT_LIB is not set: point it at libjwtgrant.so, e.g.\n"
            "  swift build -c release && "
            "JWTGRANT_LIB=$PWD/.build/release/libjwtgrant.so pytest examples/python/tests")
    if not os.path.isfile(path):
        raise pytest.UsageError(f"JWTGRANT_LIB={path}: no such file (build the library first)")
    try:
        jwtgrant.load(path)
    except OSError as e:
        raise pytest.UsageError(f"JWTGRANT_LIB={path} cannot be loaded: {e}")


@pytest.fixture(scope="session")
def lib():
    return jwtgrant.load()


@pytest.fixture
def make_server(lib):
    """Factory: a Server with `config`, clock pinned to helpers.T0, closed after the test."""
    made = []

    def make(config=None, t=helpers.T0):
        s = jwtgrant.Server(config)
        made.append(s)
        s.set_time(t)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def rsa_server(make_server):
    """A server trusting one issuer (helpers.ISS) with an RSA-2048 PEM certificate."""
    s = make_server()
    s.register_issuer(helpers.issuer_json())
    return s
