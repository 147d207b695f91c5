"""The binding as a package: `pip install` takes examples/python, the
installed package imports, carries its type marker, reports the version of
the header it was written for, and finds the library through JWTGRANT_LIB or,
without it, through the system's dynamic loader (libjwtgrant.so.1 on
LD_LIBRARY_PATH)."""

import os
import shutil
import subprocess
import sys

import pytest

import jwtgrant

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)   # examples/python
ROOT = os.path.dirname(os.path.dirname(SOURCE))

PROBE = """
import json, jwtgrant, typing
with jwtgrant.Server() as s:
    jwks = s.jwks()
    r = s.exchange_token(None, "grant_type=x")
print(json.dumps({"file": jwtgrant.__file__, "version": jwtgrant.__version__,
                  "lib_version": jwtgrant.version(), "lib_path": jwtgrant.load().path,
                  "keys": len(jwks["keys"]), "status": jwtgrant.status_name(r.status),
                  "http": r.http_status, "error": r.body["error"]}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """examples/python pip-installed into a fresh target directory (from a
    copy, so the build leaves nothing in the source tree; no network: the
    build backend is the installed setuptools)."""
    tmp = tmp_path_factory.mktemp("pip")
    src = tmp / "src"
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc"))
    target = tmp / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return target


def probe(target, env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("JWTGRANT_LIB", "PYTHONPATH")}
    env.update(env_changes)
    env["PYTHONPATH"] = str(target)
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                       cwd="/", timeout=120)
    assert r.returncode == 0, r.stderr
    import json
    return json.loads(r.stdout)


def header_version():
    with open(os.path.join(ROOT, "include", "jwtgrant.h")) as f:
        for line in f:
            if line.startswith("#define JWTGRANT_VERSION_STRING"):
                return line.split('"')[1]
    raise AssertionError("no JWTGRANT_VERSION_STRING in the header")


def test_pip_install_gives_an_importable_typed_package(installed):
    pkg = installed / "jwtgrant"
    assert (pkg / "__init__.py").is_file()
    assert (pkg / "py.typed").is_file()
    dist = [p.name for p in installed.iterdir() if p.name.endswith(".dist-info")]
    assert dist == [f"jwtgrant-{header_version()}.dist-info"], dist
    out = probe(installed, {"JWTGRANT_LIB": os.environ["JWTGRANT_LIB"]})
    assert out["file"] == str(pkg / "__init__.py")          # the installed copy, not the source tree
    assert out["version"] == header_version() == out["lib_version"]
    assert out["lib_path"] == os.environ["JWTGRANT_LIB"]
    assert out["keys"] == 1
    assert (out["status"], out["http"], out["error"]) == ("JWTGRANT_EINVALID_CLIENT", 401, "invalid_client")


def test_without_jwtgrant_lib_the_system_loader_finds_the_library(installed, tmp_path):
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / "libjwtgrant.so.1").symlink_to(os.path.realpath(os.environ["JWTGRANT_LIB"]))
    out = probe(installed, {"LD_LIBRARY_PATH": str(libdir)})
    assert out["lib_path"] == "libjwtgrant.so.1"
    assert out["lib_version"] == header_version()


def test_without_any_library_the_import_error_says_what_to_do(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JWTGRANT_LIB", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(installed)
    env["JWTGRANT_LIB"] = str(tmp_path / "missing.so")
    r = subprocess.run([sys.executable, "-c", "import jwtgrant; jwtgrant.version()"],
                       capture_output=True, text=True, env=env, cwd="/", timeout=60)
    assert r.returncode != 0
    assert "JWTGRANT_LIB" in r.stderr


def test_errors_carry_status_name_and_oauth_error(lib):
    with jwtgrant.Server() as s:
        with pytest.raises(jwtgrant.JWTGrantError) as e:
            s.verify_assertion("not-a-token")
    err = e.value
    assert (err.status, err.name, err.oauth_error) == (jwtgrant.EMALFORMED, "JWTGRANT_EMALFORMED", "invalid_grant")
    assert err.message and "not-a-token" not in err.message
    assert s.handle is None                                  # the context manager closed it
    with pytest.raises(ValueError):
        s.jwks()
