"""Hostile files for `make bench`: each uploaded to a live service (uvicorn, one web process, checks and uploads in a
worker process) — how long the refusal takes and how much memory the web process holds (VmRSS, and its peak
VmHWM). Targets: every refusal under 1 s, the web process under 300 MB. Only 127.0.0.1."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _memory_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def _shared_strings_bomb(path: Path) -> Path:
    """The workbook of the attack: 10 million shared strings, 2.2 MB on disk, 162 MB unpacked — under the limits of
    the archive (size, unpacked size, compression ratio) that held before the counts."""
    from tests.test_hostile import _SST_TYPE, FIXTURES, _shared_strings_part
    rnd = random.Random(14)
    letters = [b"<si><t>%s</t></si>" % c for c in (b"a", b"b", b"c", b"d")]
    entries = b"".join(rnd.choices(letters, weights=[90, 4, 3, 3], k=10_000_000))  # compressed 75 times
    with zipfile.ZipFile(FIXTURES / "cl779-conforming.xlsx") as zin, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                                    + _SST_TYPE + b'"/></Types>')
            zout.writestr(item, data)
        zout.writestr("xl/sharedStrings.xml", _shared_strings_part(entries))
    return path


def hostile_files(tmp: Path) -> dict[str, tuple[str, bytes]]:
    from tests.test_hostile import DEEP_YAML, HOSTILE_WORKBOOKS, _laughs, _many_keys, hostile_workbook
    files = {"xlsx-10M-shared-strings": ("bomb.xlsx", _shared_strings_bomb(tmp / "bomb.xlsx").read_bytes())}
    for kind, (make, _) in HOSTILE_WORKBOOKS.items():
        files[f"xlsx-{kind}"] = (f"{kind}.xlsx", hostile_workbook(tmp / f"{kind}.xlsx", **make()).read_bytes())
    files["yaml-350k-keys"] = ("keys.yaml", _many_keys())
    files["yaml-billion-laughs"] = ("laughs.yaml", _laughs(9))
    files["yaml-5k-deep"] = ("deep.yaml", DEEP_YAML)
    return files


def bench_hostile() -> dict:
    sys.path.insert(0, str(ROOT))
    import httpx

    from bench.api import _free_port, stop
    from tests.test_hostile import FIXTURES

    tmp = Path(tempfile.mkdtemp(prefix="compliance-bench-hostile-"))
    files = hostile_files(tmp)
    env = dict(os.environ, COMPLIANCE_DATABASE_URL=f"sqlite:///{tmp}/bench.db", COMPLIANCE_EVALUATION_MODE="process")
    bin_dir = Path(sys.executable).parent
    token = subprocess.run([str(bin_dir / "compliance"), "token", "create", "--org", "Бенчмарк"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    server = subprocess.Popen([str(bin_dir / "uvicorn"), "api.app:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    out: dict = {"files": {}}
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for _ in range(150):
                try:
                    if client.get("/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            good = (FIXTURES / "cl779-conforming.xlsx").read_bytes()
            t = time.perf_counter()
            first = client.post("/applications/upload", files={"file": ("кластер.xlsx", good)})
            out["first_upload_s"] = time.perf_counter() - t  # starts the worker process
            t = time.perf_counter()
            again = client.post("/applications/upload", files={"file": ("кластер.xlsx", good)})
            out["good_xlsx_upload_s"] = time.perf_counter() - t
            out["good_statuses"] = [first.status_code, again.status_code]
            out["web_rss_before_mb"] = _memory_mb(server.pid)["VmRSS"]
            for kind, (name, raw) in files.items():
                t = time.perf_counter()
                r = client.post("/applications/upload", files={"file": (name, raw)})
                seconds = time.perf_counter() - t
                problems = r.json().get("problems") or [{}]
                out["files"][kind] = {"bytes": len(raw), "status": r.status_code, "seconds": round(seconds, 3),
                                      "web_rss_mb": round(_memory_mb(server.pid)["VmRSS"], 1),
                                      "message": problems[0].get("message", r.json().get("detail"))}
            memory = _memory_mb(server.pid)
            out["web_rss_after_mb"], out["web_peak_rss_mb"] = memory["VmRSS"], memory["VmHWM"]
    finally:
        stop(server)
    results = out["files"].values()
    out["slowest_refusal_s"] = max(x["seconds"] for x in results)
    out["all_refused_413_422"] = all(x["status"] in (413, 422) for x in results)
    return out


if __name__ == "__main__":
    print(json.dumps(bench_hostile(), ensure_ascii=False, indent=2))
