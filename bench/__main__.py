"""``python -m bench <scenario|all> [--quick]``: start a topology, run, record.

Examples::

    python -m bench all --quick                      # CI smoke: relay + embedded daphne, tiny sizes
    python -m bench latency --server daphne,uvicorn  # production topology (MariaDB + Redis)
    python -m bench all --server relay,daphne,uvicorn --mode production --nodes 2
    python -m bench rest --server relay,uvicorn --http same,uvicorn:3,gunicorn-gthread:3x8
                                                     # REST with HTTP in its own worker processes

Results: ``bench/results/run-<stamp>.json`` (everything, raw step tables included) and,
for full runs, ``bench/results/latest.json`` (the newest result per scenario, server and
topology) from which the table in ``docs/performance.md`` is regenerated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, dumps, loads
from bench.profile import Profiler
from bench.report import machine_info, result_key, update_performance_doc
from bench.scenarios import SCENARIOS, Ctx
from bench.topology import Topology, http_spec


def _ok(result: dict[str, Any]) -> bool:
    if result.get("error"):
        return False
    exempt = set(result.get("checks_exempt") or [])
    return all(v == 0 for k, v in (result.get("checks") or {}).items() if k not in exempt)


def run(args: argparse.Namespace, save: Any = None) -> list[dict[str, Any]]:
    names = list(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
    for name in names:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {name}; choose from {', '.join(SCENARIOS)} or all")
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.max_seconds
    https = [http_spec(h) for h in args.http.split(",")]
    combos = [(server, http) for server in args.server.split(",")
              for http in (["same"] if server == "relay" or args.mode != "production" else https)]
    for server, http in combos:
        topo = Topology(server=server, mode=args.mode, nodes=args.nodes, max_seconds=args.max_seconds, http=http)
        print(f"== {topo.label} ({topo.nodes} node(s); HTTP: {topo.http})", flush=True)
        t0 = time.monotonic()
        with topo:
            print(f"   started in {time.monotonic() - t0:.1f}s: {', '.join(topo.ws_urls)}", flush=True)
            for name in names:
                if time.monotonic() > deadline:
                    print(f"   {name}: skipped, --max-seconds reached", flush=True)
                    break
                t1 = time.monotonic()
                load0 = os.getloadavg()[0]
                ctx = Ctx(topo, args.quick, prefix=f"b{name[:2]}_", max_seconds=max(60, int(deadline - t1) + 30))
                prof = Profiler(topo.profile_targets(), Path(args.results_dir) / "profiles",
                                f"{name}-{server}-{topo.mode}-{topo.http.replace(':', '')}") if args.profile else None
                try:
                    res = SCENARIOS[name](ctx)
                    if prof is not None:
                        res["profile"] = prof.stop()
                except Exception as exc:  # noqa: BLE001 - record and go on with the next scenario
                    if prof is not None:
                        prof.stop()
                    res = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:],
                           "server_log": topo.logs_tail()}
                res = {"scenario": name, "server": server, "mode": topo.mode, "nodes": topo.nodes,
                       "http": topo.http, "quick": args.quick, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                       "seconds": round(time.monotonic() - t1, 1), "loadavg_before": round(load0, 2),
                       "loadavg_after": round(os.getloadavg()[0], 2), **res}
                res["ok"] = _ok(res)
                results.append(res)
                if save is not None:  # after every scenario, so an interrupted run keeps what it measured
                    save(results)
                brief = res.get("error") or dumps(res.get("checks"))
                print(f"   {name}: {'ok' if res['ok'] else 'FAILED'} in {res['seconds']}s  {brief}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", help=f"one of {', '.join(SCENARIOS)}, a comma list, or all")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves the harness, not the speed")
    parser.add_argument("--server", default=None,
                        help="comma list of relay, daphne, uvicorn (default: relay,daphne,uvicorn; quick: relay,daphne)")
    parser.add_argument("--mode", default=None, choices=["embedded", "production"],
                        help="topology for daphne/uvicorn (default: production; quick: embedded)")
    parser.add_argument("--nodes", type=int, default=1, help="ASGI nodes in the production topology")
    parser.add_argument("--http", default="same",
                        help="comma list of where HTTP is served in the production topology: same (on the "
                             "ASGI nodes), uvicorn:N, gunicorn-uvicorn:N, gunicorn-gthread:NxT, granian:N, "
                             "granian-wsgi:NxT (a separate server with N worker processes; websockets stay on "
                             "the nodes); each is a topology of its own")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR))
    parser.add_argument("--report", action=argparse.BooleanOptionalAction, default=None,
                        help="update latest.json and docs/performance.md (default: on for full runs)")
    parser.add_argument("--max-seconds", type=int, default=None, help="hard bound for the whole run")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server processes with py-spy during each scenario (adds load)")
    parser.add_argument("--note", default="", help="conditions to record with the results")
    args = parser.parse_args(argv)
    args.server = args.server or ("relay,daphne" if args.quick else "relay,daphne,uvicorn")
    args.mode = args.mode or ("embedded" if args.quick else "production")
    args.max_seconds = args.max_seconds or (300 if args.quick else 3600)
    report = (not args.quick) if args.report is None else args.report

    started = datetime.now(UTC)
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {**machine_info(), "argv": sys.argv[1:], "note": args.note,
            "started": started.isoformat(timespec="seconds")}
    path = out_dir / f"run-{started.strftime('%Y%m%dT%H%M%S')}{'-quick' if args.quick else ''}.json"

    def save(results: list[dict[str, Any]]) -> None:
        path.write_text(dumps({"meta": meta, "results": results}))
        if report:
            latest_path = out_dir / "latest.json"
            latest = loads(latest_path.read_bytes()) if latest_path.exists() else {"results": {}}
            for r in results:
                if not r.get("error"):
                    key = result_key(r)
                    latest["results"][key] = {**{k: v for k, v in r.items() if k != "profile"}, "meta": meta}
            latest_path.write_text(dumps(latest))
            update_performance_doc(latest)

    results = run(args, save)
    save(results)
    print(f"results: {path}")
    if report:
        print(f"report: {out_dir / 'latest.json'} and docs/performance.md")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
