"""Restart time of mnemod on an existing data directory: process start to the first search answered.

Usage: restart_time.py MNEMOD DATA_DIR DIM USER RUNS
  (with an interpreter that imports the mnemo client, e.g. the test venv:
   build/clients/python/tests/venv/bin/python bench/restart_time.py build/server/mnemod DIR 1536 corpus 4)

Each run starts mnemod on 127.0.0.1 with an ephemeral port, waits for its port file, searches
USER's rows once with a random query, stops it with SIGTERM and prints the wall-clock times with
the server's own log lines about loading (vector store phases, keyword index).  mnemo-bench's
restart phase measures the same on the corpus it ingested; this script repeats it on any data
directory, e.g. to compare two builds on one corpus.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

import mnemo


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    mnemod, data, dim, user, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    work = tempfile.mkdtemp(prefix="restart-")
    query = np.random.default_rng(1).standard_normal(dim).astype(np.float32)
    for run in range(runs):
        port_file = os.path.join(work, "port")
        log_path = os.path.join(work, f"mnemod-{run}.log")
        if os.path.exists(port_file):
            os.remove(port_file)
        with open(log_path, "w") as log:
            started = time.monotonic()
            server = subprocess.Popen(
                [mnemod, "--data", data, "--listen", "127.0.0.1:0", "--port-file", port_file],
                stdout=log, stderr=subprocess.STDOUT)
            deadline = started + 300
            while not (os.path.exists(port_file) and open(port_file).read().strip()):
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    print("mnemod did not come up:\n" + open(log_path).read()[-2000:], file=sys.stderr)
                    return 1
                time.sleep(0.002)
            listening = time.monotonic() - started
            port = int(open(port_file).read().strip())
            client = mnemo.Client("127.0.0.1", port)
            hits = len(client.search(user, query, top_k=10).hits)
            first_search = time.monotonic() - started
            client.close()
            server.send_signal(signal.SIGTERM)
            server.wait(120)
        print(f"run {run}: listening {listening:.3f} s, first search {first_search:.3f} s ({hits} hits)")
        for line in open(log_path):
            if "opened in" in line or "keyword index:" in line:
                print("   ", line[line.find("]") + 1:].strip()[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
