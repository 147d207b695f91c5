"""Shared stores through the C ABI, with several processes (store_worker.py)
on one SQLite file or one Redis server: replay across processes, issuers and
clients seen by the others within a second, one signing key, faults failing
closed with 503, registrations surviving kill -9, and clear errors for bad
stores. Each Redis test starts its own redis-server on a free loopback port
(append-only file, fsync on every write) and stops it by its PID."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives import serialization

import jwtgrant
from helpers import claims, craft, issuer_json, private_key

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "store_worker.py")
KEY = private_key("p256", 7)
KEY_PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
ISSUER = issuer_json(fmt="jwks", kind="p256", n=7, kid="k7")
BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT = {"client_id": "app", "client_secret": "app-secret", "grant_types": [BEARER]}
AUTH = "Basic YXBwOmFwcC1zZWNyZXQ="


def assertion():
    return craft({"alg": "ES256", "kid": "k7"}, claims(), KEY)


def body(a):
    return f"grant_type={BEARER.replace(':', '%3A')}&assertion={a}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of the test's own, stopped by its PID."""

    def __init__(self, directory, password=None):
        self.dir, self.port, self.password, self.proc = str(directory), free_port(), password, None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                "--enable-debug-command", "local", "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True,
                              timeout=10).stdout

    @property
    def url(self):
        return f"redis://{':' + self.password + '@' if self.password else ''}127.0.0.1:{self.port}"


@pytest.fixture
def redis(tmp_path):
    r = Redis(tmp_path)
    yield r
    r.stop()


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    """The `store` value of a fresh shared store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path}/shared.db"
    else:
        r = Redis(tmp_path)
        yield r.url
        r.stop()


def worker(command, **args):
    args.setdefault("key_pem", KEY_PEM)
    return subprocess.Popen([sys.executable, WORKER, command, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def server(store, **extra):
    s = jwtgrant.Server({"store": store, **extra})
    s.set_time(1_767_225_600)
    return s


# -- replay across processes ----------------------------------------------

def test_one_assertion_raced_by_4_processes_x_4_threads_is_accepted_once(store):
    assertions = [assertion() for _ in range(25)]
    config = {"store": store}
    start_at = time.time() + 2.5
    procs = [worker("race", config=config, issuer=ISSUER, assertions=assertions, threads=4,
                    start_at=start_at) for _ in range(4)]
    per_process = [result(p)[0]["statuses"] for p in procs]
    for i in range(len(assertions)):
        statuses = sum((p[i] for p in per_process), [])
        assert len(statuses) == 16
        assert statuses.count(200) == 1, (i, statuses)
        assert set(statuses) <= {200, 400}, (i, statuses)


# -- registrations ---------------------------------------------------------

def test_registrations_and_removals_reach_another_process_within_a_second(store):
    a, b = server(store), server(store)
    try:
        a.register_issuer(ISSUER)
        a.register_client(CLIENT)
        time.sleep(1.05)
        rc, http, resp = b.exchange_token(AUTH, body(assertion()))
        assert http == 200, resp
        # Identical re-registration from both processes is OK.
        a.register_issuer(ISSUER)
        b.register_issuer(dict(reversed(list(ISSUER.items()))))
        b.register_client(CLIENT)
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            b.register_client({**CLIENT, "client_secret": "another"})
        assert ei.value.name == "JWTGRANT_EEXISTS"
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            b.register_issuer({**ISSUER, "alias": "x"})
        assert ei.value.name == "JWTGRANT_EEXISTS"
        # A removal in one is seen by the other within a second.
        b.remove_issuer("partner")
        time.sleep(1.05)
        assert a.list_issuers() == []
        rc, http, resp = a.exchange_token(AUTH, body(assertion()))
        assert http == 400 and rc == jwtgrant.EUNTRUSTED_ISSUER, resp
        # A process started now begins with what the store holds.
        a.register_issuer(ISSUER)
        c = server(store)
        assert [i["name"] for i in c.list_issuers()] == ["partner"]
        c.close()
    finally:
        a.close()
        b.close()


def test_client_rotation_and_removal_in_another_process_seen_within_a_second(store):
    """jwtgrant_rotate_client_secret and jwtgrant_remove_client in a worker
    process reach this process's context within a second; the client's
    method, scopes and access_token_lifetime come through the store."""
    new_auth = "Basic " + base64.b64encode(b"app:new-secret").decode()
    third_auth = "Basic " + base64.b64encode(b"app:third").decode()
    a = server(store)
    try:
        a.register_issuer(ISSUER)
        a.register_client({**CLIENT, "token_endpoint_auth_method": "client_secret_basic",
                           "scopes": ["read"], "access_token_lifetime": 120})
        assert a.exchange_token(AUTH, body(assertion()))[1] == 200
        got = result(worker("rotate", config={"store": store}, client_id="app", new_secret="new-secret",
                            grace_seconds=300))
        assert got == [{"rotated": "app", "ok": True}], got
        time.sleep(1.05)
        rc, http, resp = a.exchange_token(new_auth, body(assertion()))
        assert http == 200, resp
        assert a.exchange_token(AUTH, body(assertion()))[1] == 200, "the grace secret"
        [listed] = a.list_clients()
        assert listed["secrets"] == 2 and listed["grace_until"] == 1_767_225_600 + 300, listed
        assert listed["token_endpoint_auth_method"] == "client_secret_basic" and listed["scopes"] == ["read"]
        token = resp["access_token"]
        claims_ = a.verify_access_token(token)
        assert claims_["exp"] - claims_["iat"] == 120
        # Without grace: the earlier secrets stop within a second.
        got = result(worker("rotate", config={"store": store}, client_id="app", new_secret="third",
                            grace_seconds=0))
        assert got == [{"rotated": "app", "ok": True}], got
        time.sleep(1.05)
        assert a.exchange_token(new_auth, body(assertion()))[1] == 401
        assert a.exchange_token(AUTH, body(assertion()))[1] == 401
        assert a.exchange_token(third_auth, body(assertion()))[1] == 200
        # A removal in the worker: refused here within a second.
        got = result(worker("remove", config={"store": store}, client_id="app"))
        assert got == [{"removed": "app", "ok": True}], got
        time.sleep(1.05)
        rc, http, resp = a.exchange_token(third_auth, body(assertion()))
        assert http == 401 and rc == jwtgrant.EINVALID_CLIENT, resp
        assert a.list_clients() == []
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            a.remove_client("app")
        assert ei.value.name == "JWTGRANT_ENOTFOUND"
        got = result(worker("remove", config={"store": store}, client_id="app"))
        assert got == [{"removed": "app", "ok": False, "error": "JWTGRANT_ENOTFOUND"}], got
    finally:
        a.close()


def test_registrations_in_another_os_process(store):
    # The registering process exits; a process started afterwards uses them.
    result(worker("serve", config={"store": store}, issuer=ISSUER))
    proc = worker("exchange", config={"store": store}, assertion=assertion())
    assert result(proc)[0]["http"] == 200


# -- one signing key -------------------------------------------------------

def test_every_process_serves_the_same_jwks_and_verifies_the_others_tokens(store):
    procs = [worker("serve", config={"store": store}, issuer=ISSUER) for _ in range(3)]
    served = [result(p)[0] for p in procs]
    assert all(s["http"] == 200 for s in served), served
    assert served[0]["jwks"] == served[1]["jwks"] == served[2]["jwks"]
    assert len(served[0]["jwks"]["keys"]) == 1 and "d" not in served[0]["jwks"]["keys"][0]
    for i, s in enumerate(served):
        other = served[(i + 1) % 3]
        got = result(worker("verify", config={"store": store}, token=s["token"]))[0]
        assert got.get("claims", {}).get("sub") == "alice@example.com", got
        assert other["token"] != s["token"]
    # A server with its own memory signs with another key.
    mem = jwtgrant.Server()
    with pytest.raises(jwtgrant.JWTGrantError):
        mem.verify_access_token(served[0]["token"])
    mem.close()


# -- faults ----------------------------------------------------------------

def test_redis_stopped_mid_loop_fails_closed_and_recovers(redis):
    config = {"store": redis.url, "store_options": {"command_timeout": 200, "connect_timeout": 200}}
    proc = worker("loop", config=config, issuer=ISSUER, seconds=4)
    assert json.loads(proc.stdout.readline()) == {"ready": True}
    time.sleep(1.0)
    redis.stop()
    time.sleep(1.2)
    redis.start()
    lines = result(proc)
    https = [line["http"] for line in lines]
    assert 503 in https, "some exchanges ran while Redis was down"
    first503 = https.index(503)
    assert 200 in https[:first503] and 200 in https[https.index(503):], https
    for line in lines:
        assert line["http"] in (200, 503), line
        if line["http"] == 503:
            assert line["rc"] == jwtgrant.EUNAVAILABLE
            assert line["error"] == "temporarily_unavailable"
            # The public description is the generic one of the status: it
            # names no store (the store's address is the host's business).
            assert line["description"] == "the service is temporarily unavailable", line
            assert str(redis.port) not in line["description"]
    # No assertion was accepted twice: each accepted one is a replay now,
    # from another process. Those refused with 503 were not recorded, but for
    # at most one: the insert in flight when Redis was killed may have been
    # written and fsynced before the reply was lost (the loop runs one
    # exchange at a time), and then it is refused as a replay, which is the
    # safe side of that ambiguity.
    s = server(redis.url)
    s.register_client(CLIENT)
    s.register_issuer(ISSUER)
    recorded_503 = 0
    for line in lines:
        rc, http, _ = s.exchange_token(AUTH, body(line["assertion"]))
        if line["http"] == 200:
            assert http == 400, (line, http)
        else:
            assert http in (200, 400), (line, http)
            recorded_503 += http == 400
    assert recorded_503 <= 1, recorded_503
    s.close()


def test_a_stalled_redis_answers_503_within_the_timeout(redis):
    s = server(redis.url, store_options={"command_timeout": 300})
    s.register_issuer(ISSUER)
    s.register_client(CLIENT)
    assert s.exchange_token(AUTH, body(assertion()))[1] == 200
    sleeper = subprocess.Popen(["redis-cli", "-p", str(redis.port), "DEBUG", "SLEEP", "1.5"],
                               stdout=subprocess.DEVNULL)
    time.sleep(0.2)
    t0 = time.monotonic()
    rc, http, resp = s.exchange_token(AUTH, body(assertion()))
    elapsed = time.monotonic() - t0
    assert http == 503 and rc == jwtgrant.EUNAVAILABLE, resp
    assert resp["error_description"] == "the service is temporarily unavailable", resp
    assert elapsed < 0.6, elapsed
    # The host learns which store and why from the functions with a message.
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.verify_assertion(assertion())
    assert ei.value.name == "JWTGRANT_EUNAVAILABLE"
    assert f"redis store 127.0.0.1:{redis.port}/0" in ei.value.message, ei.value.message
    sleeper.wait(10)
    assert s.exchange_token(AUTH, body(assertion()))[1] == 200
    s.close()


def test_a_sqlite_lock_held_beyond_the_busy_timeout_answers_503(tmp_path):
    import sqlite3
    path = tmp_path / "shared.db"
    s = server(f"sqlite:{path}", store_options={"busy_timeout": 100})
    s.register_issuer(ISSUER)
    s.register_client(CLIENT)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    rc, http, resp = s.exchange_token(AUTH, body(assertion()))
    assert http == 503 and rc == jwtgrant.EUNAVAILABLE, resp
    assert resp["error_description"] == "the service is temporarily unavailable", resp
    assert str(path) not in json.dumps(resp)
    # A registration meets the same lock, and its message names the file.
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.register_client({**CLIENT, "client_id": "other"})
    assert ei.value.name == "JWTGRANT_EUNAVAILABLE"
    assert str(path) in ei.value.message, ei.value.message
    holder.execute("ROLLBACK")
    holder.close()
    assert s.exchange_token(AUTH, body(assertion()))[1] == 200
    s.close()


def test_registrations_reported_ok_survive_kill_9(store):
    proc = worker("register", config={"store": store})
    assert json.loads(proc.stdout.readline()) == {"ready": True}
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    ok = [json.loads(line)["ok"] for line in out.splitlines() if line.startswith('{"ok"')]
    assert len(ok) > 10, "the loop ran"
    s = server(store)
    try:
        for client_id in ok:
            n = client_id.split("-")[1]
            # Registering it again with its secret is the identical registration.
            s.register_client({"client_id": client_id, "client_secret": f"secret-{n}", "grant_types": [BEARER]})
            with pytest.raises(jwtgrant.JWTGrantError) as ei:
                s.register_client({"client_id": client_id, "client_secret": "wrong", "grant_types": [BEARER]})
            assert ei.value.name == "JWTGRANT_EEXISTS", client_id
    finally:
        s.close()


# -- bad stores at jwtgrant_ctx_new ------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("sqlite:", "needs a file path"),
    ("mysql://db/x", "store must be"),
    ("redis://127.0.0.1", "the port is missing"),
    ("redis://:hunter2@127.0.0.1", "the port is missing"),
    ("redis://127.0.0.1:70000", "the port must be a number"),
])
def test_malformed_stores_are_einval(value, expected):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        jwtgrant.Server({"store": value})
    assert ei.value.name == "JWTGRANT_EINVAL"
    assert expected in ei.value.message
    assert "hunter2" not in ei.value.message


def test_an_unreachable_redis_is_eunavailable_without_the_password():
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        jwtgrant.Server({"store": f"redis://:hunter2@127.0.0.1:{port}"})
    assert ei.value.name == "JWTGRANT_EUNAVAILABLE"
    assert f"redis store 127.0.0.1:{port}/0: cannot connect" in ei.value.message
    assert "hunter2" not in ei.value.message
    assert time.monotonic() - t0 < 2


def test_a_wrong_redis_password_is_refused_without_echo(tmp_path):
    r = Redis(tmp_path, password="right-pw")
    try:
        s = jwtgrant.Server({"store": r.url})
        s.close()
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            jwtgrant.Server({"store": f"redis://:wrong-pw@127.0.0.1:{r.port}"})
        assert ei.value.name == "JWTGRANT_ESTORE"
        assert "refused the password" in ei.value.message and "wrong-pw" not in ei.value.message
    finally:
        r.stop()


def test_sqlite_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database at all " * 200)
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        jwtgrant.Server({"store": f"sqlite:{path}"})
    assert ei.value.name == "JWTGRANT_ESTORE"
    assert "is not a SQLite database" in ei.value.message and str(path) in ei.value.message


def test_sqlite_file_of_a_newer_schema(tmp_path):
    import sqlite3
    path = tmp_path / "shared.db"
    jwtgrant.Server({"store": f"sqlite:{path}"}).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE jwtgrant_meta SET value = 9 WHERE name = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        jwtgrant.Server({"store": f"sqlite:{path}"})
    assert ei.value.name == "JWTGRANT_ESTORE"
    assert "schema version 9, newer than this library's 1" in ei.value.message


def test_sqlite_file_mode_is_0600(tmp_path):
    path = tmp_path / "shared.db"
    old = os.umask(0)
    try:
        jwtgrant.Server({"store": f"sqlite:{path}"}).close()
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_sqlite_in_a_read_only_directory():
    # Root ignores directory permissions: as root, the check runs in a child
    # process with the uid of "nobody" (65534) and the system Python (the
    # binding needs only the standard library), in a directory under /tmp
    # that nobody may traverse but not write.
    import tempfile
    top = tempfile.mkdtemp(prefix="jwtgrant-ro-")
    try:
        os.chmod(top, 0o755)
        d = os.path.join(top, "ro")
        os.mkdir(d)
        os.chmod(d, 0o555)
        code = ("import jwtgrant, sys\n"
                "jwtgrant.load(sys.argv[1])\n"
                "try:\n"
                "    jwtgrant.Server({'store': 'sqlite:' + sys.argv[2]})\n"
                "    print('OPENED')\n"
                "except jwtgrant.JWTGrantError as e:\n"
                "    print(e.name, e.message)\n")
        lib = os.environ["JWTGRANT_LIB"]
        env = {**os.environ, "PYTHONPATH": os.path.dirname(HERE)}
        as_root = os.geteuid() == 0
        python = "/usr/bin/python3" if as_root else sys.executable
        kwargs = {"user": 65534, "cwd": "/"} if as_root else {}
        out = subprocess.run([python, "-c", code, lib, os.path.join(d, "shared.db")], capture_output=True,
                             text=True, env=env, timeout=60, **kwargs)
        assert out.stdout.startswith("JWTGRANT_ESTORE"), (out.stdout, out.stderr)
        assert "cannot create or open the file: Permission denied" in out.stdout
    finally:
        shutil.rmtree(top)
