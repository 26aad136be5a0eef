"""Helpers of scripts/crash-test and scripts/load-test: a geoalign server process on a
scratch store, plain HTTP calls, the alignment's sheet, log and territories, and editor
threads that post change sets (each with an Idempotency-Key) until they are answered.
Python 3 standard library only."""

import csv
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALIGNMENT = "nyc"


def log(message, tag="test"):
    print(f"[{tag}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One geoalign process on the store; started, killed and restarted."""

    def __init__(self, binary, store, port, scratch):
        self.binary, self.store, self.port, self.scratch = binary, store, port, scratch
        self.process = None
        self.starts = 0

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, command="serve"):
        self.starts += 1
        out = open(os.path.join(self.scratch, f"server-{self.starts}.log"), "wb")
        args = [self.binary, "--store", self.store, command, "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}: see {out.name}")
            try:
                status, _ = request("GET", f"{self.base}/api/alignments/{ALIGNMENT}", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("server did not answer within 120 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def request(method, url, body=None, headers=None, timeout=10, answer_headers=None):
    """(status, body text); raises OSError when there is no answer. The answer's headers
    go into `answer_headers` when it is a dict."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            if answer_headers is not None:
                answer_headers.update({k.lower(): v for k, v in res.headers.items()})
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except urllib.error.URLError as e:
        raise OSError(str(e.reason)) from e


def sheet(base):
    status, text = request("GET", f"{base}/api/alignments/{ALIGNMENT}/sheet")
    assert status == 200, (status, text)
    rows = list(csv.DictReader(io.StringIO(text)))
    return {r["unit_id"]: r["territory"] for r in rows}


def territories(base):
    """Territory code -> (units, sums, area) of the running server."""
    status, text = request("GET", f"{base}/api/alignments/{ALIGNMENT}/territories")
    assert status == 200, (status, text)
    doc = json.loads(text)
    out = {}
    for item in doc["items"]:
        m = item["metrics"]
        out[item["code"]] = (m["units"], m["sums"], m["area_km2"])
    return out


def history(base):
    revisions, before = [], None
    while True:
        url = f"{base}/api/alignments/{ALIGNMENT}/history?limit=1000"
        if before is not None:
            url += f"&before={before}"
        status, text = request("GET", url)
        assert status == 200, (status, text)
        page = json.loads(text)
        revisions = [c["revision"] for c in page["changes"]] + revisions
        before = page.get("next_before")
        if before is None:
            return revisions


class Editors:
    """Threads posting change sets; each request is resent with its key until answered."""

    def __init__(self, server, units, codes, count, seed):
        self.server, self.units, self.codes = server, units, codes
        self.count = count
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.acknowledged = {}  # revision -> (key, unit, territory)
        self.resent = 0
        self.replayed = 0
        self.stale = 0
        self.running = threading.Event()
        self.threads = []

    def check(self, start_sheet, start_log):
        """What went wrong, as sentences: the change log (after `start_log`) must hold
        exactly the acknowledged revisions, once each, and the served owners must be
        `start_sheet` with the acknowledged assignments replayed in revision order."""
        failures = []
        self.logged = history(self.server.base)[len(start_log):]
        self.duplicated = len(self.logged) - len(set(self.logged))
        if self.duplicated:
            failures.append(f"{self.duplicated} revision(s) appear twice in the change log")
        missing = sorted(set(self.acknowledged) - set(self.logged))
        extra = sorted(set(self.logged) - set(self.acknowledged))
        self.lost = len(missing)
        if missing:
            failures.append(f"{len(missing)} acknowledged revision(s) missing from the log: {missing[:10]}")
        if extra:
            failures.append(f"{len(extra)} revision(s) in the log that no editor was told of: {extra[:10]}")
        expected = dict(start_sheet)
        for revision in sorted(self.acknowledged):
            _, unit, territory = self.acknowledged[revision]
            expected[unit] = territory
        served = sheet(self.server.base)
        wrong = [u for u in self.units if served.get(u) != expected.get(u)]
        if wrong:
            failures.append(f"{len(wrong)} unit(s) owned otherwise than the acknowledged changes say: {wrong[:10]}")
        return failures

    def start(self):
        self.running.set()
        self.threads = [threading.Thread(target=self.edit, args=(i,), daemon=True) for i in range(self.count)]
        for t in self.threads:
            t.start()

    def stop(self):
        self.running.clear()
        for t in self.threads:
            t.join()

    def edit(self, editor):
        serial = 0
        while self.running.is_set():
            with self.lock:
                unit = self.rng.choice(self.units)
                territory = self.rng.choice(self.codes)
            serial += 1
            key = f"crash-{editor}-{serial}-{os.getpid()}"
            self.send_until_answered(key, unit, territory)

    def send_until_answered(self, key, unit, territory):
        """Sends one change set until the server says yes: the same body again when there
        was no answer (so a change set that committed is answered from the store), a new
        one on the current revision after a 409."""
        body = None
        while True:
            try:
                if body is None:
                    status, text = request("GET", f"{self.server.base}/api/alignments/{ALIGNMENT}", timeout=5)
                    if status != 200:
                        raise OSError(f"status {status}")
                    body = {
                        "expected_revision": json.loads(text)["revision"],
                        "author": "crash-test",
                        "changes": [{"op": "assign", "units": [unit], "territory": territory}],
                    }
                answer_headers = {}
                status, text = request(
                    "POST",
                    f"{self.server.base}/api/alignments/{ALIGNMENT}/changes",
                    body,
                    {"Idempotency-Key": key},
                    timeout=10,
                    answer_headers=answer_headers,
                )
            except OSError:
                # No answer (the server is down): the same request again, same key.
                with self.lock:
                    self.resent += 1
                time.sleep(0.05)
                continue
            if status == 200:
                outcome = json.loads(text)
                revision = outcome["revision"]
                if revision == body["expected_revision"]:
                    return  # the unit was in that territory already: no revision
                with self.lock:
                    if answer_headers.get("idempotent-replayed") == "true":
                        self.replayed += 1  # committed before the kill, answered now
                    previous = self.acknowledged.get(revision)
                    if previous is not None and previous[0] != key:
                        raise SystemExit(f"revision {revision} acknowledged to {previous[0]} and {key}")
                    self.acknowledged[revision] = (key, unit, territory)
                return
            if status == 409 and "Idempotency" not in text:
                # Stale: another editor was first. Again on the current revision.
                with self.lock:
                    self.stale += 1
                body = None
                continue
            raise SystemExit(f"unexpected answer {status}: {text[:300]}")


def build(binary):
    """The geoalign binary: `binary`, else a release build of the checkout."""
    if binary is not None:
        return binary
    log("cargo build --release")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target/release/geoalign")
