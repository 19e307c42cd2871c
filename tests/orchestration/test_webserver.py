"""The Dagster UI serves the asset graph: start dagster-webserver on loopback, query GraphQL, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT

QUERY = "{ assetNodes { assetKey { path } groupName } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webserver_serves_the_asset_graph(tmp_path):
    port = free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        nodes = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=10)
                data = response.json().get("data") or {}
                if data.get("assetNodes"):
                    nodes = data["assetNodes"]
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert nodes, f"webserver did not serve the asset graph; exit code {process.poll()}"
        keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
        groups = {node["groupName"] for node in nodes}
        assert {"raw/shopify_orders", "marts/fct_orders", "marts/dim_customers", "churn_model", "churn_scores"} <= keys
        assert {"ingest", "staging", "marts", "ml"} <= groups
        runs = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ runsOrError { ... on Runs { results { runId } } } }"}).json()
        assert runs["data"]["runsOrError"]["results"] == []  # nothing was launched
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode is not None
