"""The chat backend on mnemo against the same app on PostgreSQL, over HTTP.

    .venv/bin/python bench/chat_backend/bench.py --mnemod build/server/mnemod [--workers 1]

One run starts everything it measures on 127.0.0.1 and stops it again: a fresh mnemod and a
throwaway PostgreSQL 15 cluster (both durable: every acknowledged write is synced), the example
app (examples/chat_backend) under uvicorn once per store with the same number of workers and
the same flags, and the load generator (loadgen.py) as a process of its own.

Workload, per number of concurrent clients (default 1, 8 and 64), on users of its own:
  create   POST /api/v1/conversations                       users x conversations-per-user
  append   POST /api/v1/conversations/{id}/messages         every conversation x messages
  list     GET  /api/v1/conversations?limit=20              --reads requests
  history  GET  /api/v1/conversations/{id}/messages?limit=50  --reads requests
Each client is one keep-alive connection running requests back to back.  Both stores run the
same phase one after the other (alternating which goes first), so background load on a shared
machine falls on both alike.  Per phase and store it reports requests/s, p50/p99 latency as the
client sees it, CPU per request of the app server (uvicorn and its workers) and of the store
(mnemod, or the postmaster and its backends), and the load generator's own CPU use.

The app must be importable with the interpreter given by --python (default: this one): run this
script with the venv that has the mnemo package installed (README "Python client").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "examples" / "chat_backend" / "tests"))

from servers import (MnemodProcess, PostgresCluster, UvicornApp, child_pids,  # noqa: E402
                     cpu_seconds)

PHASES = ("create", "append", "list", "history")
ROUTES = {
    "create": "POST /api/v1/conversations",
    "append": "POST /api/v1/conversations/{id}/messages",
    "list": "GET /api/v1/conversations",
    "history": "GET /api/v1/conversations/{id}/messages",
}
STACKS = ("mnemo", "postgres")
TARGET_RATIO = 1.5  # the target: mnemo >= 1.5x PostgreSQL's req/s at 64 clients


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnemod", default=os.environ.get("MNEMO_MNEMOD",
                                                           str(REPO / "build/server/mnemod")))
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs uvicorn (needs mnemo, FastAPI, SQLAlchemy)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per store")
    parser.add_argument("--clients", default="1,8,64", help="concurrent clients, comma-separated")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--conversations-per-user", type=int, default=8)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--reads", type=int, default=3000, help="requests per read phase")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: clients 1,4, a tenth of the workload")
    parser.add_argument("--out", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.users, args.conversations_per_user = "1,4", 8, 2
        args.messages_per_conversation, args.reads = 3, 40
    args.clients = [int(c) for c in args.clients.split(",")]
    if args.users < max(args.clients):
        parser.error("--users must be at least the largest number of clients")
    return args


class LoadGenerator:
    """loadgen.py in a process of its own, one JSON command and answer per line."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(HERE / "loadgen.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, command: dict[str, Any]) -> dict[str, Any]:
        self.process.stdin.write(json.dumps({"op": "phase", **command}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited")
        answer = json.loads(line)
        if "failed" in answer:
            raise RuntimeError(f"load generator: {answer['failed']}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write('{"op": "quit"}\n')
            self.process.stdin.close()
            self.process.wait(30)


class CpuMeter:
    """CPU seconds spent by a changing set of processes between two samples (a process that
    appears counts in full; one that exits before the second sample is lost)."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = cpu_seconds(self.pids())

    def stop(self) -> float:
        after = cpu_seconds(self.pids())
        return sum(t - self.before.get(pid, 0.0) for pid, t in after.items())


def mnemod_pids(server: MnemodProcess) -> Callable[[], list[int]]:
    def find() -> list[int]:
        for pid in child_pids(os.getpid()):
            try:
                if str(server.data_dir) in Path(f"/proc/{pid}/cmdline").read_text():
                    return [pid]
            except OSError:
                continue
        return []
    return find


def run_phase(loadgen: LoadGenerator, app: UvicornApp, store_cpu: CpuMeter, key: str,
              phase: str, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    app_cpu = CpuMeter(app.pids)
    app_cpu.start()
    store_cpu.start()
    answer = loadgen.run({
        "base_url": f"http://127.0.0.1:{app.port}", "key": key, "phase": phase,
        "concurrency": clients, "users": args.users,
        "conversations_per_user": args.conversations_per_user,
        "messages_per_conversation": args.messages_per_conversation, "reads": args.reads})
    answer["app_cpu_seconds"] = app_cpu.stop()
    answer["store_cpu_seconds"] = store_cpu.stop()
    if answer["errors"]:
        raise RuntimeError(f"{key} {phase}: {answer['errors']} errors, e.g. "
                           f"{answer['first_errors']}")
    return answer


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [f"uvicorn workers per store: {args.workers}; users {args.users}, "
             f"{args.conversations_per_user} conversations each, "
             f"{args.messages_per_conversation} messages per conversation, "
             f"{args.reads} requests per read phase", "",
             "| clients | route | store | req/s | p50 ms | p99 ms | app CPU µs/req | app CPU "
             "| store CPU µs/req | loadgen CPU | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        n = r["requests"]
        lines.append(
            f"| {r['clients']} | `{ROUTES[r['phase']]}` | {r['stack']} | "
            f"{n / r['seconds']:,.0f} | {r['latency_us']['p50'] / 1e3:.2f} | "
            f"{r['latency_us']['p99'] / 1e3:.2f} | {r['app_cpu_seconds'] / n * 1e6:,.0f} | "
            f"{r['app_cpu_seconds'] / r['seconds']:.0%} | "
            f"{r['store_cpu_seconds'] / n * 1e6:,.0f} | "
            f"{r['cpu_seconds'] / r['seconds']:.0%} | {r['load_average']} |")
    by_key = {(r["clients"], r["phase"], r["stack"]): r for r in results}
    lines += ["", "| clients | route | mnemo req/s ÷ PostgreSQL | p99 mnemo / PostgreSQL "
              "| app CPU/req mnemo / PostgreSQL |", "|---|---|---|---|---|"]
    verdicts = []
    for clients in args.clients:
        for phase in PHASES:
            m, p = by_key.get((clients, phase, "mnemo")), by_key.get((clients, phase, "postgres"))
            if not m or not p:
                continue
            speed = (m["requests"] / m["seconds"]) / (p["requests"] / p["seconds"])
            tail = m["latency_us"]["p99"] / p["latency_us"]["p99"]
            cpu = (m["app_cpu_seconds"] / m["requests"]) / max(p["app_cpu_seconds"] /
                                                                p["requests"], 1e-9)
            lines.append(f"| {clients} | `{ROUTES[phase]}` | {speed:.2f}× | {tail:.2f} | "
                         f"{cpu:.2f} |")
            if clients == 64:
                verdicts.append(speed >= TARGET_RATIO and tail <= 1.0)
    if verdicts:
        lines += ["", f"Target at 64 clients (every route ≥ {TARGET_RATIO}× PostgreSQL's req/s, "
                      f"p99 no worse): {'met' if all(verdicts) else 'NOT met'}"]
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    os.environ["MNEMO_MNEMOD"] = str(Path(args.mnemod).resolve())  # read by MnemodProcess
    work = Path(tempfile.mkdtemp(prefix="chat-backend-bench-"))
    mnemod = MnemodProcess(work / "mnemod")
    (work / "mnemod").mkdir()
    postgres = PostgresCluster(durable=True)
    apps: dict[str, UvicornApp] = {}
    loadgen = None
    results: list[dict[str, Any]] = []
    try:
        mnemod.start()
        postgres.start()
        uvicorn_flags = ("--no-access-log", "--log-level", "info")
        envs = {"mnemo": {"CHAT_BACKEND_STORE": "mnemo",
                          "CHAT_BACKEND_MNEMO_PORT": str(mnemod.port)},
                "postgres": {"CHAT_BACKEND_STORE": "postgres",
                             "CHAT_BACKEND_DATABASE_URL": postgres.url}}
        for stack in STACKS:
            apps[stack] = UvicornApp(args.python, envs[stack], work / f"uvicorn-{stack}.log",
                                     args.workers, uvicorn_flags).start()
        store_cpu = {"mnemo": CpuMeter(mnemod_pids(mnemod)), "postgres": CpuMeter(postgres.pids)}
        loadgen = LoadGenerator()

        warm = argparse.Namespace(**{**vars(args), "users": 8, "conversations_per_user": 2,
                                     "messages_per_conversation": 4,
                                     "reads": min(400, args.reads)})
        for stack in STACKS:
            for phase in PHASES:
                run_phase(loadgen, apps[stack], store_cpu[stack], f"{stack}/warm", phase, 8, warm)
        print(f"# chat backend: mnemo vs PostgreSQL over HTTP (load average at start "
              f"{load_average()})", file=sys.stderr)

        for clients in args.clients:
            for index, phase in enumerate(PHASES):
                order = STACKS if (index + clients) % 2 == 0 else STACKS[::-1]
                for stack in order:
                    answer = run_phase(loadgen, apps[stack], store_cpu[stack],
                                       f"{stack}/c{clients}", phase, clients, args)
                    answer.update(stack=stack, phase=phase, clients=clients,
                                  load_average=load_average())
                    results.append(answer)
                    print(f"  {clients:>3} clients {phase:<8} {stack:<8} "
                          f"{answer['requests'] / answer['seconds']:>8,.0f} req/s  "
                          f"p99 {answer['latency_us']['p99'] / 1e3:7.2f} ms", file=sys.stderr)
        text = report(results, args)
        print(text)
        if args.out:
            args.out.write_text(json.dumps({"args": {k: v for k, v in vars(args).items()
                                                     if k != "out"},
                                            "results": results}, indent=1, default=str))
        return 0
    finally:
        if loadgen is not None:
            loadgen.close()
        for app in apps.values():
            app.stop()
        mnemod.stop()
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
