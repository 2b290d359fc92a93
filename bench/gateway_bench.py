#!/usr/bin/env python3
"""The gateway's benchmark: online scoring over HTTP, measured with h2load
(Debian's nghttp2-client) against a ceiling measured in the same run.

It starts a private redis-server, `scorepipe up` (ventilator, workers, bridge,
sink) and `scorepipe-gateway` on one topology (config/local.yaml with ipc://
links in a temporary folder and free ports), then runs:

  ceiling      GET /v2/health/live over the same connections: what HTTP alone
               costs here (same server library, same process, trivial answer)
  single       POST /v1/score, one transaction a request, N keep-alive
               connections, as fast as they go (saturation)
  paced        POST /v1/score at --rate requests/s in all; each request timed
               at the client (h2load's per-request log) from request to
               response: gateway -> ventilator -> worker -> back
  paced-ceiling  GET /v2/health/live at the same rate (the latency HTTP alone adds)
  batch100     POST /v1/score with 100 transactions a request

Each figure is also given as a ratio to the ceiling. Each run also gives the
CPU time the gateway process and the whole cluster (every process started
here but redis-server) spent per request, in microseconds, measured over the
run after its warm-up: a figure that a busy or noisy machine moves far less
than a rate. Prints a table and appends one JSON line per run to --json.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml


def free_port():
    # Below the ephemeral range, as the tests pick theirs.
    import random
    for _ in range(200):
        port = random.randint(20000, 31999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def transaction(i):
    return {"id": i, "customer_id": 1 + i % 5000, "vendor_id": 1 + i % 300,
            "timestamp": "2026-01-01T12:00:00Z", "status": ["accepted", "rejected", "pending"][i % 3],
            "amount": round(10 + (i * 37) % 5000 + 0.25, 2)}


def wait_ready(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def cpu_seconds(pids):
    """CPU time (user + system, every thread) of each pid, in seconds; 0 for one gone."""
    tick = os.sysconf("SC_CLK_TCK")
    total = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except OSError:
            total[pid] = 0.0
    return total


def idle_seconds():
    """The machine's idle time so far, every CPU, in seconds (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")  # idle, iowait


def gateway_counters(metrics_url):
    """The gateway's batch counters from its metrics endpoint: (batches, rows)."""
    if not metrics_url:
        return None
    with urllib.request.urlopen(metrics_url, timeout=5) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        for name in ("scorepipe_gateway_batches_total", "scorepipe_gateway_rows_total"):
            if line.startswith(name + " "):
                values[name] = float(line.split()[1])
    return values.get("scorepipe_gateway_batches_total", 0.0), values.get("scorepipe_gateway_rows_total", 0.0)


def h2load(url, seconds, connections, body=None, rps=None, log=None, warm_up=1, cpu=None, metrics_url=None):
    """Runs h2load; its figures, with CPU µs a request of each group of
    pids in `cpu` ({name: [pid]}) as "<name>_us" when given, and the rows
    a batch the gateway sent as "rows_per_batch" when `metrics_url` is."""
    cmd = ["h2load", "--h1", "-t", "1", "-c", str(connections), "-D", f"{seconds:g}",
           "--warm-up-time", str(warm_up), "-H", "Content-Type: application/json"]
    if body:
        cmd += ["-d", body]
    if rps:
        cmd += ["--rps", str(rps)]
    if log:
        cmd += ["--log-file", log]
    cmd.append(url)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    before = None
    if cpu:
        time.sleep(warm_up + 0.1)
        before = {name: cpu_seconds(pids) for name, pids in cpu.items()}
        counted = gateway_counters(metrics_url)
        idle_before = idle_seconds()
    try:
        stdout, _ = proc.communicate(timeout=seconds + warm_up + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    after = {name: cpu_seconds(pids) for name, pids in cpu.items()} if cpu else None
    counted_after = gateway_counters(metrics_url) if cpu else None
    idle_after = idle_seconds() if cpu else None
    out = stdout
    figures = {"rps": 0.0, "succeeded": 0, "failed": 0, "2xx": 0, "non2xx": 0}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("finished in"):
            figures["rps"] = float(line.split(",")[1].split()[0])
        elif line.startswith("requests:"):
            words = line.replace(",", "").split()
            figures["succeeded"] = int(words[words.index("succeeded") - 1])
            figures["failed"] = int(words[words.index("failed") - 1])
        elif line.startswith("status codes:"):
            words = line.replace(",", "").split()
            figures["2xx"] = int(words[words.index("2xx") - 1])
            figures["non2xx"] = sum(int(words[words.index(k) - 1]) for k in ("3xx", "4xx", "5xx"))
    if figures["rps"] == 0.0:
        raise RuntimeError("h2load printed no figures:\n" + out)
    if cpu:
        requests = figures["rps"] * (seconds - 0.1)
        for name in cpu:
            used = sum(after[name][pid] - before[name][pid] for pid in cpu[name])
            figures[name + "_us"] = used * 1e6 / requests
        figures["idle"] = (idle_after - idle_before) / (os.cpu_count() * (seconds - 0.1))
        if counted and counted_after and counted_after[0] > counted[0]:
            figures["rows_per_batch"] = (counted_after[1] - counted[1]) / (counted_after[0] - counted[0])
    return figures


def percentiles(log):
    times = []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].startswith("2"):
                times.append(int(parts[2]) / 1000.0)  # microseconds -> ms
    times.sort()
    if not times:
        return None, None, None, 0
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return pick(0.5), pick(0.99), pick(0.999), len(times)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--bin-dir", default=os.path.join(here, "..", "build", "bin"))
    parser.add_argument("--config", default=os.path.join(here, "..", "config", "local.yaml"))
    parser.add_argument("--seconds", type=float, default=10, help="each run's measured time")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=int, default=5000, help="paced run: requests/s in all")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="gateway.threads (default: the topology's)")
    parser.add_argument("--max-queue-delay-us", type=int, default=None,
                        help="gateway.max_queue_delay_us (default: the topology's)")
    parser.add_argument("--json", default="bench-results.jsonl", help='append one JSON line per run ("": none)')
    parser.add_argument("--quick", action="store_true", help="CI-sized: 2 s runs (a smoke test)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--only", default="single,paced,batch100",
                        help="which runs after the ceiling, comma-separated (default: all: single,paced,batch100)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 2
    args.only = set(filter(None, args.only.split(",")))
    unknown = args.only - {"single", "paced", "batch100"}
    if unknown:
        parser.error("--only: unknown run(s) " + ", ".join(sorted(unknown)))
    for tool in ("h2load", "redis-server"):
        if not shutil.which(tool):
            sys.exit(f"gateway_bench: {tool} is missing (bash scripts/setup.sh installs it)")

    work = tempfile.mkdtemp(prefix="scorepipe-gwbench-")
    procs = []
    try:
        redis_port = free_port()
        procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
                                       "--dir", work], stdout=subprocess.DEVNULL))
        with open(args.config) as f:
            topology = yaml.safe_load(f)
        config_dir = os.path.dirname(os.path.abspath(args.config))
        topology["queue"]["redis"]["port"] = redis_port
        for section, key in (("ventilator", ""), ("ventilator", "intake_"), ("ventilator", "heartbeat_"),
                             ("ventilator", "status_"), ("ventilator", "gateway_"), ("sink", ""),
                             ("sink", "publish_"), ("sink", "status_")):
            endpoint = f"ipc://{work}/{section}-{key or 'main'}.ipc"
            topology[section][key + "bind"] = endpoint
            topology[section][key + "connect"] = endpoint
        for key in ("bridge_port", "ventilator_port", "sink_port", "worker_port"):
            topology["metrics"][key] = 0
        gateway_metrics_port = free_port()
        topology["metrics"]["gateway_port"] = gateway_metrics_port
        topology["metrics"]["address"] = "127.0.0.1"
        topology["workers"]["count"] = args.workers
        gateway_port = free_port()
        topology["gateway"].update({"port": gateway_port, "address": "127.0.0.1", "security": "none"})
        if args.threads is not None:
            topology["gateway"]["threads"] = args.threads
        if args.max_queue_delay_us is not None:
            topology["gateway"]["max_queue_delay_us"] = args.max_queue_delay_us
        for key in ("path", "features"):
            topology["model"][key] = os.path.normpath(os.path.join(config_dir, topology["model"][key]))
        topology["logging"]["level"] = "warn"
        topology_path = os.path.join(work, "topology.yaml")
        with open(topology_path, "w") as f:
            yaml.safe_dump(topology, f)
        log = open(os.path.join(work, "nodes.log"), "w")
        procs.append(subprocess.Popen([os.path.join(args.bin_dir, "scorepipe"), "up", "-c", topology_path],
                                      stdout=log, stderr=log))
        procs.append(subprocess.Popen([os.path.join(args.bin_dir, "scorepipe-gateway"), "-c", topology_path],
                                      stdout=log, stderr=log))
        if not wait_ready(gateway_port, 60):
            sys.exit("gateway_bench: the gateway did not become ready; see " + os.path.join(work, "nodes.log"))

        # Whose CPU time each run counts: the gateway, and every process of
        # the cluster (scorepipe up's nodes, found by the work folder in
        # their command line).
        gateway_pid = procs[-1].pid
        cluster_pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        line = f.read().decode(errors="replace")
                except OSError:
                    continue
                if work in line and "scorepipe" in line and "redis-server" not in line:
                    cluster_pids.append(int(entry))
        cpu = {"gateway": [gateway_pid], "cluster": cluster_pids}

        one = os.path.join(work, "one.json")
        with open(one, "w") as f:
            json.dump(transaction(1), f)
        hundred = os.path.join(work, "hundred.json")
        with open(hundred, "w") as f:
            json.dump([transaction(i) for i in range(1, 101)], f)
        base = f"http://127.0.0.1:{gateway_port}"
        live, score = base + "/v2/health/live", base + "/v1/score"
        s, c = args.seconds, args.connections
        runs = []
        cpu_of = lambda f: {"gateway_cpu_us": f.get("gateway_us"), "cluster_cpu_us": f.get("cluster_us"),
                            "rows_per_batch": f.get("rows_per_batch"), "idle": f.get("idle")}
        metrics_url = f"http://127.0.0.1:{gateway_metrics_port}/metrics"
        print(f"gateway_bench: gateway at {base}, its metrics at {metrics_url}", file=sys.stderr, flush=True)
        ceiling = h2load(live, s, c, cpu=cpu)
        runs.append({"run": "ceiling", "requests_per_s": ceiling["rps"], "transactions_per_s": None, **cpu_of(ceiling)})
        if "single" in args.only:
            single = h2load(score, s, c, body=one, cpu=cpu, metrics_url=metrics_url)
            runs.append({"run": "single", "requests_per_s": single["rps"], "transactions_per_s": single["rps"],
                         "non_2xx": single["non2xx"] + single["failed"], **cpu_of(single)})
        paced_clients = 16
        per_client = max(1, args.rate // paced_clients)
        if "paced" in args.only:
            paced_log = os.path.join(work, "paced.log")
            paced = h2load(score, s, paced_clients, body=one, rps=per_client, log=paced_log)
            p50, p99, p999, n = percentiles(paced_log)
            runs.append({"run": "paced", "requests_per_s": paced["rps"], "transactions_per_s": paced["rps"],
                         "p50_ms": p50, "p99_ms": p99, "p999_ms": p999, "timed": n,
                         "non_2xx": paced["non2xx"] + paced["failed"]})
            ceiling_log = os.path.join(work, "paced-ceiling.log")
            paced_ceiling = h2load(live, s, paced_clients, rps=per_client, log=ceiling_log)
            c50, c99, c999, cn = percentiles(ceiling_log)
            runs.append({"run": "paced-ceiling", "requests_per_s": paced_ceiling["rps"], "transactions_per_s": None,
                         "p50_ms": c50, "p99_ms": c99, "p999_ms": c999, "timed": cn})
        if "batch100" in args.only:
            batch = h2load(score, s, c, body=hundred, cpu=cpu, metrics_url=metrics_url)
            runs.append({"run": "batch100", "requests_per_s": batch["rps"], "transactions_per_s": batch["rps"] * 100,
                         "non_2xx": batch["non2xx"] + batch["failed"], **cpu_of(batch)})

        print(f"gateway benchmark: {c} connections, {args.workers} worker(s), {s:g} s a run, paced at "
              f"{per_client * paced_clients}/s over {paced_clients} connections")
        print(f"{'run':<14} {'req/s':>10} {'tx/s':>10} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
              f"{'non-2xx':>8} {'gw us/req':>10} {'all us/req':>11} {'rows/batch':>10} {'idle':>5}")
        for run in runs:
            run["ratio_to_ceiling"] = run["requests_per_s"] / ceiling["rps"]
            fmt = lambda v, spec: ("-" if v is None else format(v, spec))
            print(f"{run['run']:<14} {run['requests_per_s']:>10.0f} {fmt(run.get('transactions_per_s'), '10.0f'):>10} "
                  f"{run['ratio_to_ceiling']:>7.3f} {fmt(run.get('p50_ms'), '8.3f'):>8} "
                  f"{fmt(run.get('p99_ms'), '8.3f'):>8} {fmt(run.get('p999_ms'), '9.3f'):>9} "
                  f"{fmt(run.get('non_2xx'), 'd'):>8} {fmt(run.get('gateway_cpu_us'), '10.2f'):>10} "
                  f"{fmt(run.get('cluster_cpu_us'), '11.2f'):>11} {fmt(run.get('rows_per_batch'), '10.1f'):>10} {fmt(run.get('idle'), '5.2f'):>5}")
        if args.json:
            with open(args.json, "a") as f:
                for run in runs:
                    f.write(json.dumps({"bench": "gateway", "quick": args.quick, "connections": c,
                                        "workers": args.workers, "seconds": s, **run}) + "\n")
        bad = sum(run.get("non_2xx") or 0 for run in runs)
        if bad:
            print(f"gateway_bench: {bad} requests were not answered 2xx", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep:
            print("work folder:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
