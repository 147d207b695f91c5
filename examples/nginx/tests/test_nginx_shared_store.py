"""Two nginx workers on a SQLite store: one assertion raced by 16 clients is
accepted exactly once, and the workers share the signing key.

Needs the shared stores ("store": "sqlite:PATH"); without them nginx refuses
to start (the library refuses the store), and this file fails.
"""
import os
import re
import threading

from harness import AUD, SIGNING_KEY, Nginx, Upstream, assertion


def test_two_workers_on_sqlite_accept_a_raced_assertion_once(tmp_path):
    upstream = Upstream()
    n = Nginx(tmp_path, workers=2, upstream_port=upstream.port,
              server={"issuer": AUD, "store": "sqlite:{temp}/replay.db",
                      "access_token": {"signing_key": SIGNING_KEY, "lifetime": 600}})
    # The store lives where the workers (user nobody under root) can write;
    # the master opens it first, as root, when it checks the configuration,
    # so the file is made beforehand, writable by the workers.
    server_json = tmp_path / "server.json"
    server_json.write_text(server_json.read_text().replace("{temp}", str(n.temp)))
    db = n.temp / "replay.db"
    db.touch()
    os.chmod(db, 0o666)
    rc, out = n.test_config()
    assert rc == 0, out
    n.start()
    try:
        assert len(n.worker_pids()) == 2
        for attempt in range(5):
            one, statuses, lock = assertion(), [], threading.Lock()
            barrier = threading.Barrier(16)

            def race():
                barrier.wait()
                s, _, body = n.token(one)
                with lock:
                    statuses.append((s, body.get("error")))

            threads = [threading.Thread(target=race) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(statuses) == [(200, None)] + [(400, "invalid_grant")] * 15, statuses
        # Both workers served token requests, and a token issued by one
        # opens the protected location on the other.
        tokens = [n.token(assertion())[2]["access_token"] for _ in range(16)]
        assert all(n.get("/protected/x", t)[0] == 200 for t in tokens for _ in range(2))
    finally:
        n.stop()
        upstream.close()
    access = (tmp_path / "logs" / "access.log").read_text()
    pids = set(re.findall(r"^200 /oauth2/token .* pid=(\d+)$", access, re.M))
    assert len(pids) == 2, "the requests did not reach both workers"
    assert "[alert]" not in n.log and "[crit]" not in n.log, n.log


def test_two_workers_need_a_shared_signing_key(tmp_path):
    n = Nginx(tmp_path, workers=2, server={"issuer": AUD, "store": "sqlite:{temp}/replay.db"})
    server_json = tmp_path / "server.json"
    server_json.write_text(server_json.read_text().replace("{temp}", str(n.temp)))
    rc, out = n.test_config()
    assert rc != 0 and "test failed" in out, out
    assert "worker_processes is 2 but jwtgrant_config gives no access_token.signing_key" in out, out
