"""examples/nginx/serve: the quick start, run as a user would."""
import base64
import json
import os
import pathlib
import signal
import socket
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from harness import (AUD, CLIENT_ID, CLIENT_SECRET, GRANT, IDP_CERT, ISS, assertion, free_port,
                     module_path)

SERVE = pathlib.Path(__file__).resolve().parent.parent / "serve"


def start(tmp_path, *extra):
    (tmp_path / "idp.json").write_text(json.dumps({"name": "idp", "issuer": ISS, "certificate": IDP_CERT}))
    (tmp_path / "app.json").write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                                   "grant_types": [GRANT]}))
    port = free_port()
    # The workers (user nobody under root) reach the run directory, unlike
    # pytest's private ones.
    run = pathlib.Path(tempfile.mkdtemp(prefix="jwtgrant-serve-"))
    os.chmod(run, 0o755)
    proc = subprocess.Popen([str(SERVE), "--port", str(port), "--issuer", str(tmp_path / "idp.json"),
                             "--client", str(tmp_path / "app.json"), "--module", module_path(),
                             "--dir", str(run), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, port, run


def wait_listening(proc, port, run):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                log = (run / "logs" / "error.log")
                if log.exists() and "jwtgrant: libjwtgrant" in log.read_text():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("serve did not start")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_the_token_endpoint_and_the_protected_location(tmp_path, sig):
    proc, port, run = start(tmp_path)
    try:
        wait_listening(proc, port, run)
        body = urllib.parse.urlencode({"grant_type": GRANT, "assertion": assertion()}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/oauth2/token", data=body)
        req.add_header("Authorization", "Basic " + base64.b64encode(
            f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode())
        with urllib.request.urlopen(req, timeout=10) as r:
            token = json.loads(r.read())["access_token"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/oauth2/jwks", timeout=10) as r:
            assert json.loads(r.read())["keys"]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/protected/anything")
        req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.read().decode() == f"sub: alice@example.com\nclient_id: {CLIENT_ID}\n"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/protected/anything", timeout=10)
            raise AssertionError("the protected location opened without a token")
        except urllib.error.HTTPError as e:
            assert e.code == 401
        # The generated signing key is kept for the next run.
        assert (run / "signing-key.pem").exists()
    finally:
        proc.send_signal(sig)
        rc = proc.wait(15)
    out = proc.stdout.read()
    log = (run / "logs" / "error.log").read_text()
    shutil.rmtree(run, ignore_errors=True)
    assert rc == 0, out
    assert f"assertions need aud {AUD!r}" in out
    assert "exit" in log and "[alert]" not in log, log
    # Nothing is left listening.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_serve_runs_two_workers_on_sqlite_without_a_signing_key(tmp_path):
    # A directory serve creates for the workers (user nobody under root).
    db_dir = pathlib.Path(tempfile.gettempdir()) / f"jwtgrant-serve-db-{os.getpid()}-{free_port()}"
    proc, port, run = start(tmp_path, "--workers", "2", "--store", f"sqlite:{db_dir}/store.db")
    try:
        wait_listening(proc, port, run)
        for _ in range(8):
            body = urllib.parse.urlencode({"grant_type": GRANT, "assertion": assertion()}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{port}/oauth2/token", data=body)
            req.add_header("Authorization", "Basic " + base64.b64encode(
                f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode())
            with urllib.request.urlopen(req, timeout=10) as r:
                token = json.loads(r.read())["access_token"]
            for _ in range(4):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/protected/x")
                req.add_header("Authorization", f"Bearer {token}")
                with urllib.request.urlopen(req, timeout=10) as r:
                    assert r.status == 200
        # The library keeps the key in the store: serve generated none.
        assert not (run / "signing-key.pem").exists()
        assert "signing_key" not in (run / "server.json").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
    out = proc.stdout.read()
    log = (run / "logs" / "error.log").read_text()
    shutil.rmtree(run, ignore_errors=True)
    shutil.rmtree(db_dir, ignore_errors=True)
    assert rc == 0, out
    assert "[alert]" not in log and "[emerg]" not in log, log


def test_serve_refuses_two_workers_on_the_memory_store(tmp_path):
    proc, port, run = start(tmp_path, "--workers", "2")
    out = proc.communicate(timeout=30)[0]
    shutil.rmtree(run, ignore_errors=True)
    assert proc.returncode != 0
    assert 'worker_processes is 2 but the store is "memory"' in out, out


def test_serve_refuses_a_directory_the_workers_cannot_reach(tmp_path):
    proc = subprocess.run([str(SERVE), "--port", str(free_port()), "--issuer", "x.json", "--client", "y.json",
                           "--module", module_path(), "--dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    if os.geteuid() == 0:
        assert "cannot traverse" in proc.stderr, proc.stderr
    else:
        # The workers run as the user who started serve: the directory is
        # fine, and the missing files are what is refused.
        assert "cannot traverse" not in proc.stderr and "x.json" in proc.stderr, proc.stderr
