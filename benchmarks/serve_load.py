#!/usr/bin/env python3
"""Load on a running `vae serve`: `POST /api/decode` with random codes from C concurrent clients (one keep-alive
connection each) until N requests are answered; prints p50/p99 latency, throughput, errors and the server's
resident memory (VmRSS from /proc) before and after.

    python3 benchmarks/serve_load.py URL RUN --pid PID [--requests 3000] [--clients 1] [--seed 0]
"""
import argparse, http.client, json, random, statistics, sys, threading, time, urllib.parse


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("run")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    parts = urllib.parse.urlparse(arguments.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    connection.request("GET", "/api/runs")
    runs = {run["name"]: run for run in json.loads(connection.getresponse().read())}
    connection.close()
    if arguments.run not in runs:
        sys.exit(f"serve_load: no run '{arguments.run}' (served: {', '.join(runs)})")
    width = runs[arguments.run]["latentSize"]
    latencies, errors, lock = [], [], threading.Lock()
    remaining = [arguments.requests]

    def client(index):
        generator = random.Random(arguments.seed * 1000 + index)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            body = json.dumps({"run": arguments.run, "z": [generator.gauss(0, 1) for _ in range(width)]})
            start = time.perf_counter()
            try:
                connection.request("POST", "/api/decode", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status == 200 and payload.startswith(b"\x89PNG"):
                        latencies.append(elapsed)
                    else:
                        errors.append(response.status)
            except Exception as error:  # a dropped connection counts as an error; reconnect
                with lock:
                    errors.append(str(error))
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        connection.close()

    rss_before = rss_mib(arguments.pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(index,)) for index in range(arguments.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    rss_after = rss_mib(arguments.pid)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"| {arguments.run} | {arguments.clients} | {len(latencies)} | {len(errors)} | {p(0.5):.2f} | {p(0.99):.2f} | "
          f"{len(latencies) / wall:.0f} | {rss_before:.0f} → {rss_after:.0f} |")


if __name__ == "__main__":
    main()
