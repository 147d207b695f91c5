"""fork() after a Server was created (the header's THREAD SAFETY paragraph):
in the child, the parent's Server raises JWTGRANT_EINVAL naming fork() at
once, close() returns at once, and a Server created in the child works. The
parent's Server is unaffected."""

import os
import signal
import time

import helpers
import jwtgrant


def test_a_pre_fork_server_is_refused_in_the_child_and_a_new_one_works(rsa_server):
    a = helpers.mint("pyjwt", "RS256", helpers.private_key("rsa2048"), helpers.claims())
    assert rsa_server.verify_assertion(a)["sub"]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, never return into pytest
        code = 1
        try:
            os.close(r)
            signal.alarm(20)
            problems = []
            t0 = time.monotonic()
            try:
                rsa_server.verify_assertion(a)
                problems.append("verify_assertion on the parent's server succeeded")
            except jwtgrant.JWTGrantError as e:
                if e.name != "JWTGRANT_EINVAL" or "fork()" not in (e.message or ""):
                    problems.append(f"unexpected error {e.name}: {e.message}")
            status, http, body = rsa_server.exchange_token(None, "grant_type=x")
            if (jwtgrant.status_name(status), http, body["error"]) != ("JWTGRANT_EINVAL", 500, "server_error"):
                problems.append(f"exchange_token answered {status} {http} {body}")
            rsa_server.close()
            if time.monotonic() - t0 > 0.5:
                problems.append("the calls in the child were not immediate")
            with jwtgrant.Server() as mine:
                mine.set_time(helpers.T0)
                mine.register_issuer(helpers.issuer_json())
                if mine.verify_assertion(a)["sub"] != helpers.SUB:
                    problems.append("a server made in the child did not verify")
            os.write(w, "\n".join(problems).encode())
            code = 0 if not problems else 1
        except BaseException as e:  # noqa: BLE001 - report anything
            os.write(w, repr(e).encode())
        finally:
            os._exit(code)
    os.close(w)
    report = b""
    while chunk := os.read(r, 65536):
        report += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"child died: signal {os.WTERMSIG(status)}"
    assert os.WEXITSTATUS(status) == 0, report.decode()
    assert rsa_server.verify_assertion(a)["sub"]   # the parent's server still works
