"""Several gunicorn workers, one set of numbers: the server's settings and multiprocess mode."""

from __future__ import annotations

import importlib
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from myapi import serving
from tests.production.servers import Host

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = str(ROOT / "gunicorn.conf.py")
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
MADE_BY_THE_SERVER = "MYAPI_METRICS_DIR_MADE_BY_GUNICORN"

# One "worker": a process of its own that answers some requests, then may scrape /metrics.
WORKER = """
import sys
from myapi.config import Testing
from myapi import create_app

client = create_app(Testing(METRICS_ENABLED=True)).test_client()
for _ in range(int(sys.argv[1])):
    client.get("/auth/me")
if sys.argv[2] == "scrape":
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tempfile.mkdtemp makes directories, and no multiprocess directory chosen yet."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # Set, then delete: monkeypatch then also removes what gunicorn.conf.py sets.
    for name in (MULTIPROC_DIR, MADE_BY_THE_SERVER):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return tmp_path


def load_gunicorn_conf() -> dict[str, Any]:
    """gunicorn.conf.py as a new gunicorn master reads it (the settings module runs anew)."""
    importlib.reload(serving)
    return runpy.run_path(GUNICORN_CONF)


def run_worker(directory: Path, requests: int, *, scrape: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests), "scrape" if scrape else "-"],
        cwd=ROOT,
        env={**os.environ, MULTIPROC_DIR: str(directory)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_gunicorn_conf_gives_the_workers_a_new_private_directory_when_metrics_are_on(
    private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_ENABLED", "true")

    load_gunicorn_conf()

    directory = Path(os.environ[MULTIPROC_DIR])
    assert directory.parent == private_tempdir
    assert directory.is_dir()
    assert not any(directory.iterdir())
    assert directory.stat().st_mode & 0o077 == 0


def test_the_server_removes_the_directory_it_made_when_it_stops(
    private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_ENABLED", "true")
    conf = load_gunicorn_conf()
    directory = Path(os.environ[MULTIPROC_DIR])

    conf["on_exit"](None)

    assert not directory.exists()


def test_the_server_keeps_a_directory_the_operator_chose_when_it_stops(
    private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = private_tempdir / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("METRICS_ENABLED", "true")
    monkeypatch.setenv(MULTIPROC_DIR, str(chosen))
    conf = load_gunicorn_conf()

    conf["on_exit"](None)

    assert chosen.is_dir()


def test_gunicorn_conf_chooses_no_directory_when_metrics_are_off(
    private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_ENABLED", "false")

    load_gunicorn_conf()

    assert MULTIPROC_DIR not in os.environ
    assert not any(private_tempdir.iterdir())


def test_gunicorn_conf_keeps_a_directory_the_operator_chose(
    private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = private_tempdir / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("METRICS_ENABLED", "true")
    monkeypatch.setenv(MULTIPROC_DIR, str(chosen))

    load_gunicorn_conf()

    assert os.environ[MULTIPROC_DIR] == str(chosen)
    assert list(private_tempdir.iterdir()) == [chosen]


def test_a_dead_workers_live_gauges_are_dropped_and_its_counters_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))
    live_gauge = tmp_path / "gauge_livesum_4242.db"
    counter = tmp_path / "counter_4242.db"
    live_gauge.touch()
    counter.touch()
    child_exit = load_gunicorn_conf()["child_exit"]

    child_exit(None, SimpleNamespace(pid=4242))

    assert not live_gauge.exists()
    assert counter.exists()


def test_metrics_add_up_the_requests_of_every_worker_process(tmp_path: Path) -> None:
    run_worker(tmp_path, 2)
    run_worker(tmp_path, 3)

    exposition = run_worker(tmp_path, 0, scrape=True)

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    me = (("endpoint", "/auth/me"), ("method", "GET"))
    assert samples[("myapi_http_requests_total", (*me, ("status", "401")))] == 5
    assert samples[("myapi_http_request_duration_seconds_count", me)] == 5


def test_a_real_gunicorn_started_by_hand_leaves_no_metrics_directory(tmp_path: Path) -> None:
    # The operator's case: gunicorn run outside systemd (no PrivateTmp), then stopped.
    env = {
        "MYAPI_CONFIG": "testing",
        "METRICS_ENABLED": "true",
        "TMPDIR": str(tmp_path),
        "GUNICORN_WORKERS": "2",
    }
    host = Host(env=env, log_path=tmp_path.parent / f"{tmp_path.name}.log").start()
    made = [path.name for path in tmp_path.iterdir()]

    host.stop()

    assert len(made) == 1 and made[0].startswith("myapi-metrics-")
    assert list(tmp_path.iterdir()) == []
