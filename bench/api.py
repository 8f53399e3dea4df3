"""API figures for `make bench`: checks per second over HTTP on loopback (uvicorn, 2 worker processes) versus
in-process throughput, and p99 latency at a fixed request rate. Bounded in time; only 127.0.0.1."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "12"))
FIXTURE = ROOT / "fixtures" / "ip794-operating-conforming.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def _load(url: str, token: str, seconds: float, threads: int, rate: float | None, out) -> None:
    """Runs in a separate process: posts checks for `seconds`, as fast as possible or at a fixed rate."""
    import httpx
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + seconds
    latencies, errors = [], 0

    def worker(i: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            k = 0
            while True:
                if rate:
                    due = start + (k * threads + i) / rate
                    if due > deadline:
                        return
                    time.sleep(max(0.0, due - time.monotonic()))
                elif time.monotonic() > deadline:
                    return
                t = time.perf_counter()
                r = client.post("/api/v1/applications/" + out["app_id"] + "/checks", json={"regime": "ip794"})
                latencies.append(time.perf_counter() - t)
                if r.status_code != 201:
                    errors += 1
                k += 1

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    out["latencies"] = latencies
    out["errors"] = errors
    out["elapsed"] = time.monotonic() - start


def _run_load(url, token, app_id, seconds, threads, rate=None) -> dict:
    ctx = get_context("spawn")
    with ctx.Manager() as manager:
        out = manager.dict(app_id=app_id)
        p = ctx.Process(target=_load, args=(url, token, seconds, threads, rate, out))
        p.start()
        p.join(seconds + 60)
        if p.is_alive():
            p.kill()
        return dict(out)


def bench_api() -> dict:
    sys.path.insert(0, str(ROOT))
    import httpx

    from compliance.evaluate import evaluate
    from compliance.loading import load_application

    tmp = tempfile.mkdtemp(prefix="compliance-bench-")
    env = dict(os.environ, COMPLIANCE_DATABASE_URL=f"sqlite:///{tmp}/bench.db")
    exe = Path(sys.executable).parent / "compliance"
    token = subprocess.run([str(exe), "token", "create", "--org", "Бенчмарк"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip().splitlines()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(Path(sys.executable).parent / "uvicorn"), "api.app:create_app", "--factory",
                               "--workers", "2", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              cwd=ROOT, env=env)
    try:
        for _ in range(150):
            try:
                if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        app = load_application(FIXTURE)
        r = httpx.post(url + "/api/v1/applications", json=app.model_dump(mode="json"),
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        app_id = r.json()["id"]
        _run_load(url, token, app_id, 2, 2)  # warm up both workers
        flat = _run_load(url, token, app_id, SECONDS, 8)
        http_rps = len(flat["latencies"]) / flat["elapsed"]
        fixed_rate = max(1.0, round(http_rps * 0.5))
        paced = _run_load(url, token, app_id, SECONDS, 8, fixed_rate)
        lat = sorted(paced["latencies"])
        p99 = lat[min(len(lat) - 1, int(0.99 * (len(lat) - 1)))] * 1000 if lat else float("nan")
    finally:
        stop(server)
    evaluate(app, "ip794")
    t, count = time.perf_counter(), 0
    while time.perf_counter() - t < min(SECONDS, 5):
        evaluate(app, "ip794")
        count += 1
    in_process = count / (time.perf_counter() - t)
    return {"http_checks_per_second": http_rps, "in_process_checks_per_second": in_process,
            "http_to_in_process_pct": 100 * http_rps / in_process, "errors": flat["errors"] + paced["errors"],
            "fixed_rate_rps": fixed_rate, "p99_ms_at_fixed_rate": p99, "workers": 2, "load_threads": 8,
            "note": "HTTP-проверка сохраняет заявку и отчёт в SQLite; в процессе — только evaluate()"}


if __name__ == "__main__":
    print(json.dumps(bench_api(), ensure_ascii=False, indent=2))
