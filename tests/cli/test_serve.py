"""``overclaim serve``: option errors, and a real server on loopback (API key from the environment)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--port", "70000"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_bad_options_exit_2_with_one_line(run_cli, args, needle):
    code, _, err = run_cli("serve", *args)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_unusable_database_exits_2(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli("serve", "--store", str(blocker / "sub" / "r.sqlite"))
    assert code == 2
    assert "store" in err or "database" in err or "reports" in err


def test_serve_answers_on_loopback_with_api_key_from_env(tmp_path, seed_text):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OVERCLAIM_API_KEY": "env-key", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "overclaim", "serve", "--port", str(port), "--store", str(tmp_path / "r.sqlite"),
         "--log-level", "warning"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        headline, body = seed_text.split("\n", 1)
        post = {"headline": headline, "body": body}
        assert httpx.post(base + "/v1/check", json=post).status_code == 401
        r = httpx.post(base + "/v1/check", json=post, headers={"X-API-Key": "env-key"}, timeout=30)
        assert r.status_code == 200
        assert r.json()["post"]["headline"] == headline
        assert "server" not in r.headers  # no server banner
    finally:
        proc.terminate()
        proc.wait(15)


def test_missing_model_is_one_line_before_listening(run_cli, monkeypatch, tmp_path):
    from overclaim.errors import ModelError
    from overclaim.pipeline import Checker

    def broken(self):
        raise ModelError("model 'stance' is not built; run `overclaim train stance`")

    monkeypatch.setattr(Checker, "warm_up", broken)
    # --processes 0: the models load in this process, where warm_up is patched (with check processes
    # they load in those, which this patch does not reach).
    code, _, err = run_cli("serve", "--store", str(tmp_path / "r.sqlite"), "--port", "1", "--processes", "0")
    assert code == 3
    assert "overclaim train stance" in err and len(err.strip().splitlines()) == 1
