"""The six scenarios. Each gets a running topology and returns one result dict.

Sizes are the issue's targets; ``quick`` shrinks them so the whole suite runs in CI
in well under a minute (it then proves the harness, not the speed).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import summarize
from bench.driver import CpuMeter, LoadFleet, rss
from bench.topology import Topology


def _service_pids() -> dict[str, list[int]]:
    """MariaDB and Redis server processes (read-only, for CPU shares)."""
    out: dict[str, list[int]] = {"mariadb": [], "redis": []}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        if comm in ("mariadbd", "mysqld"):
            out["mariadb"].append(int(d.name))
        elif comm == "redis-server":
            out["redis"].append(int(d.name))
    return out


class Ctx:
    def __init__(self, topo: Topology, quick: bool, prefix: str, max_seconds: int) -> None:
        self.topo = topo
        self.quick = quick
        self.prefix = prefix
        self.max_seconds = max_seconds

    def url(self, k: int) -> str:
        urls = self.topo.ws_urls
        return urls[k % len(urls)]

    def fleet(self, n: int) -> LoadFleet:
        return LoadFleet(n, self.topo.workdir, self.max_seconds)

    def meter(self, fleet: LoadFleet | None = None) -> CpuMeter:
        pids: dict[str, list[int]] = {"server": self.topo.server_pids()}
        tree = self.topo.all_pids()
        if "celery" in tree:
            pids["celery"] = tree["celery"]
        if self.topo.mode == "production":
            pids.update(_service_pids())
        if fleet is not None:
            from bench.common import proc_tree

            pids["loadgen"] = [pid for p in fleet.procs for pid in proc_tree(p.proc.pid)]
        return CpuMeter(pids)

    def users(self, tag: str, n: int) -> list[str]:
        return [f"{self.prefix}{tag}{i}" for i in range(n)]


def _connect(fleet: LoadFleet, shares: list[list[list[str]]], timeout: float = 600) -> dict[str, Any]:
    res = fleet.all("connect", per_proc=[{"clients": s} for s in shares], concurrency=50, within=timeout - 10,
                    timeout=timeout)
    failed = sum(r["failed"] for r in res)
    if failed:
        raise RuntimeError(f"{failed} clients could not connect: {[r['errors'] for r in res]}")
    return {"connected": sum(r["connected"] for r in res), "seconds": max(r["seconds"] for r in res)}


def _checks(**counts: int) -> dict[str, int]:
    return {k: int(v) for k, v in counts.items()}


# ----------------------------------------------------------------- 1. latency
def latency(ctx: Ctx) -> dict[str, Any]:
    pairs_n, rate, duration = (10, 20, 1) if ctx.quick else (1000, 200, 20)
    users = ctx.users("l", 2 * pairs_n)
    tok = ctx.topo.provision({"users": users, "tokens": users})["tokens"]
    with ctx.fleet(1) as fleet:
        _connect(fleet, [[[u, tok[u], ctx.url(k)] for k, u in enumerate(users)]])
        pairs = [[2 * i, 2 * i + 1] for i in range(pairs_n)]
        lg = fleet.procs[0]
        # warm-up: every pair sends once (creates the conversations), not measured
        warm = lg.call("pairs", tag="w", rate=min(500, pairs_n * 10), duration=pairs_n / min(500, pairs_n * 10),
                       pairs=pairs)
        meter = ctx.meter(fleet).start()
        res = lg.call("pairs", tag="m", rate=rate, duration=duration, pairs=pairs, drain=15)
        cpu = meter.stop()
        final = lg.call("lostcheck", wait=30)
    lat = summarize(res["latency_ms"])
    return {
        "params": {"pairs": pairs_n, "rate": rate, "duration_s": duration},
        "metrics": {"p50_ms": lat["p50"], "p99_ms": lat["p99"], "max_ms": lat["max"], "mean_ms": lat["mean"],
                    "ack": summarize(res["ack_ms"]), "sent": res["scheduled"], "delivered": res["delivered"],
                    "lag_max_ms": res["lag_max_ms"], "warmup_sent": warm["scheduled"], "cpu_percent": cpu},
        # lost: acked but missing even after the protocol's catch-up; pushes_missed: never pushed
        "checks": _checks(lost=final["lost"], pushes_missed=final["pushes_missed"], late=res["lost"],
                          duplicates=res["duplicates"] + warm["duplicates"],
                          reordered=res["reordered"], unacked=res["scheduled"] - res["acked"],
                          closed=res["closed"]),
        "checks_exempt": ["late", "reordered", "pushes_missed"],  # server behaviour, reported; not harness faults
        "errors": {**res["ack_errors"], **res["send_errors"]},
    }


# -------------------------------------------------------------- 2. throughput
STEPS = [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000]


def throughput(ctx: Ctx) -> dict[str, Any]:
    pairs_n, steps, duration = (10, [20, 40], 1) if ctx.quick else (500, STEPS, 6)
    nproc = 2
    users = ctx.users("t", 2 * pairs_n)
    tok = ctx.topo.provision({"users": users, "tokens": users})["tokens"]
    # each load generator gets whole pairs
    shares: list[list[list[str]]] = [[] for _ in range(nproc)]
    local_pairs: list[list[list[int]]] = [[] for _ in range(nproc)]
    for i in range(pairs_n):
        p = i % nproc
        s, r = users[2 * i], users[2 * i + 1]
        base = len(shares[p])
        shares[p] += [[s, tok[s], ctx.url(2 * i)], [r, tok[r], ctx.url(2 * i + 1)]]
        local_pairs[p].append([base, base + 1])
    rows = []
    best = None
    lost = dups = reord = unacked = 0
    with ctx.fleet(nproc) as fleet:
        _connect(fleet, shares)
        fleet.all("pairs", per_proc=[{"pairs": lp} for lp in local_pairs], tag="w", rate=100 / nproc,
                  duration=max(1.0, pairs_n / 100), drain=30)
        for rate in steps:
            tag = f"t{rate}"
            meter = ctx.meter(fleet).start()
            res = fleet.all("pairs", per_proc=[{"pairs": lp} for lp in local_pairs], tag=tag, rate=rate / nproc,
                            duration=duration, drain=10)
            cpu = meter.stop()
            lat = summarize([x for r in res for x in r["latency_ms"]])
            sent = sum(r["scheduled"] for r in res)
            acked = sum(r["acked"] for r in res)
            step_lost = sum(r["lost"] for r in res)
            lost += step_lost
            dups += sum(r["duplicates"] for r in res)
            reord += sum(r["reordered"] for r in res)
            unacked += sent - acked
            send_secs = max(r["send_seconds"] for r in res)
            row = {"rate": rate, "offered_per_s": round(sent / max(send_secs, 1e-9), 1), "p50_ms": lat["p50"],
                   "p99_ms": lat["p99"], "max_ms": lat["max"], "sent": sent, "acked": acked, "lost": step_lost,
                   "lag_max_ms": max(r["lag_max_ms"] for r in res), "cpu_percent": cpu}
            rows.append(row)
            ok = (lat["p99"] is not None and lat["p99"] <= 200 and step_lost == 0 and acked == sent
                  and send_secs <= duration * 1.2)
            if not ok:
                break
            best = rate
            time.sleep(0.1 if ctx.quick else 0.5)
        final = fleet.all("lostcheck", wait=60)
    return {
        "params": {"pairs": pairs_n, "step_seconds": duration, "steps": steps, "criterion": "p99 <= 200 ms"},
        # 0: not even the first step held
        "metrics": {"max_sustained_per_s": best or 0, "steps": rows,
                    "catch_ups": dict(sum((Counter(r["catch_ups"]) for r in final), Counter()))},
        "checks": _checks(lost=sum(r["lost"] for r in final), pushes_missed=sum(r["pushes_missed"] for r in final),
                          late=lost, duplicates=dups, reordered=reord, unacked=unacked),
        # the last step is the one that broke the p99 criterion: late pushes and unanswered
        # sends there are the measurement, not a harness fault; pushes missed are reported (the
        # protocol's catch-up must then find them); lost (missing even after catch-up) is a fault
        "checks_exempt": ["late", "unacked", "reordered", "pushes_missed"],
    }


# ------------------------------------------------------------------ 3. fan-out
# after the last send of a round, wait this long for every member to have every message;
# what has not arrived by then counts as lost (a server that far behind has failed anyway)
GROUP_WAIT_SECONDS = 30


def _group_round(ctx: Ctx, fleet: LoadFleet, members_local: list[list[int]], group_id: str, tag: str,
                 rate: float, duration: float, receivers: int) -> dict[str, Any]:
    fleet.all("track", on=True)
    meter = ctx.meter(fleet).start()
    sent = fleet.procs[0].call("group", tag=tag, rate=rate, duration=duration, sender=0, group_id=group_id)
    acked = sent["acked"]
    conv = sent["acks"][0][0] if sent["acks"] else ""
    seqs = [a[1] for a in sent["acks"]]
    want = acked * receivers
    t_end = time.monotonic() + GROUP_WAIT_SECONDS
    while time.monotonic() < t_end:
        got = sum(r["delivered"] for r in fleet.all("groupstats", tag=tag, conv=conv, seqs=[], members=[]))
        if got >= want:
            break
        time.sleep(0.2)
    cpu = meter.stop()
    final = fleet.all("groupstats", per_proc=[{"members": m} for m in members_local], tag=tag, conv=conv,
                      seqs=seqs, final=True)
    fleet.all("track", on=False)
    per: dict[str, list[int]] = {}
    for r in final:
        for cmid, (cnt, _first, last) in r["per_msg"].items():
            rec = per.setdefault(cmid, [0, 0])
            rec[0] += cnt
            rec[1] = max(rec[1], last)
    last_ms = [(last - int(cmid.split(".")[3])) / 1e6 for cmid, (cnt, last) in per.items() if cnt >= receivers]
    incomplete = acked - len(last_ms)
    deliveries = [x for r in final for x in r["latency_ms"]]
    lat_last = summarize(last_ms)
    lat_each = summarize(deliveries)
    return {
        "rate": rate, "messages": acked, "receivers": receivers,
        "last_member_p50_ms": lat_last["p50"], "last_member_p99_ms": lat_last["p99"],
        "last_member_max_ms": lat_last["max"], "delivery_p50_ms": lat_each["p50"],
        "delivery_p99_ms": lat_each["p99"], "ack": summarize(sent["ack_ms"]), "cpu_percent": cpu,
        "lost": sum(r["lost"] for r in final), "duplicates": sum(r["duplicates"] for r in final),
        "reordered": sum(r["reordered"] for r in final), "incomplete": incomplete,
        "unacked": sent["scheduled"] - acked, "errors": sent["ack_errors"],
    }


def _group_setup(ctx: Ctx, tag: str, members: int, online: int, nproc: int) -> tuple[Any, ...]:
    users = ctx.users(tag, members)
    prov = ctx.topo.provision({"users": users, "tokens": users[:online],
                               "groups": [{"owner": users[0], "members": users, "name": f"bench {tag}"}]})
    tok, group_id = prov["tokens"], prov["groups"][0]
    shares: list[list[list[str]]] = [[] for _ in range(nproc)]
    members_local: list[list[int]] = [[] for _ in range(nproc)]
    for k, u in enumerate(users[:online]):
        p = 0 if k == 0 else k % nproc
        if k:
            members_local[p].append(len(shares[p]))
        shares[p].append([u, tok[u], ctx.url(k)])
    return users, shares, members_local, group_id, prov["seconds"]


def fanout(ctx: Ctx) -> dict[str, Any]:
    size, rates, duration = (20, [5], 1) if ctx.quick else (500, [5, 10], 10)
    big_size, big_online, big_rate, big_duration = (100, 20, 2, 1) if ctx.quick else (10_000, 1_000, 2, 10)
    nproc = 2
    rounds = []
    with ctx.fleet(nproc) as fleet:
        users, shares, members_local, gid, _ = _group_setup(ctx, "g", size, size, nproc)
        _connect(fleet, shares)
        if ctx.topo.server == "relay":
            fleet.procs[0].call("call", client=0, op="bench.group", data={"group_id": gid, "member_ids": users})
        if not ctx.quick:  # warm-up message
            _group_round(ctx, fleet, members_local, gid, "gw", 1, 1, size - 1)
        for rate in rates:
            r = _group_round(ctx, fleet, members_local, gid, f"g{rate}", rate, duration, size - 1)
            r["group_size"] = size
            rounds.append(r)
        fleet.all("close")
        users, shares, members_local, gid, big_prov = _group_setup(ctx, "G", big_size, big_online, nproc)
        _connect(fleet, shares)
        if ctx.topo.server == "relay":
            fleet.procs[0].call("call", client=0, op="bench.group", data={"group_id": gid, "member_ids": users})
        if not ctx.quick:
            _group_round(ctx, fleet, members_local, gid, "Gw", 1, 1, big_online - 1)
        r = _group_round(ctx, fleet, members_local, gid, "Gm", big_rate, big_duration, big_online - 1)
        r["group_size"] = big_size
        rounds.append(r)
    return {
        "params": {"group": size, "rates": rates, "duration_s": duration, "big_group": big_size,
                   "big_online": big_online, "big_rate": big_rate, "big_group_setup_s": big_prov},
        "metrics": {"rounds": rounds},
        "checks": _checks(lost=sum(r["lost"] for r in rounds), duplicates=sum(r["duplicates"] for r in rounds),
                          reordered=sum(r["reordered"] for r in rounds),
                          incomplete=sum(r["incomplete"] for r in rounds),
                          unacked=sum(r["unacked"] for r in rounds)),
        "checks_exempt": ["reordered"],  # server behaviour, reported; not a harness fault
    }


# ----------------------------------------------------------------- 4. catch-up
def catchup(ctx: Ctx) -> dict[str, Any]:
    convs, per_conv, repeats = (4, 25, 1) if ctx.quick else (20, 500, 3)
    users = ctx.users("c", convs + 1)
    target, peers = users[0], users[1:]
    tok = ctx.topo.provision({"users": users, "tokens": users})["tokens"]
    with ctx.fleet(1) as fleet:
        lg = fleet.procs[0]
        _connect(fleet, [[[u, tok[u], ctx.url(k)] for k, u in enumerate(peers)]])
        fill = lg.call("fill", tag="c", sends=[[i, target, 1] for i in range(len(peers))], count=per_conv,
                       window=20, timeout=600)
        expect = fill["max_seq"]
        runs = []
        for _ in range(repeats):
            meter = ctx.meter(fleet).start()
            r = lg.call("catchup", uid=target, token=tok[target], url=ctx.url(0), expect=expect, limit=500,
                        timeout=120)
            r["cpu_percent"] = meter.stop()
            runs.append(r)
    secs = sorted(r["seconds"] for r in runs)
    return {
        "params": {"conversations": convs, "messages_per_conversation": per_conv, "repeats": repeats},
        "metrics": {"seconds_median": secs[len(secs) // 2], "seconds_first": runs[0]["seconds"],
                    "messages": runs[0]["messages"], "pulls": runs[0]["pulls"],
                    "fill_rate_per_s": fill["rate"], "runs": runs},
        "checks": _checks(missing=sum(r["missing"] for r in runs), duplicates=sum(r["duplicates"] for r in runs),
                          fill_errors=sum(fill["errors"].values()),
                          expected_short=convs * per_conv - sum(expect.values())),
    }


# --------------------------------------------------------------------- 5. idle
# 19,800, not 20,000: this sandbox's hard RLIMIT_NOFILE is 20,000 per process and cannot be
# raised, and the server needs a few dozen descriptors besides the sockets
IDLE_CONNECTIONS = 19_800
# connecting stops after this long; what is connected by then is measured
IDLE_CONNECT_BUDGET_SECONDS = 150


def idle(ctx: Ctx) -> dict[str, Any]:
    n, seconds, heartbeat, budget = (50, 1.5, 1.0, 60) if ctx.quick else (
        IDLE_CONNECTIONS, 30, 30.0, IDLE_CONNECT_BUDGET_SECONDS)
    nproc = 1 if ctx.quick else 2
    users = ctx.users("i", n)
    tok = ctx.topo.provision({"users": users, "tokens": users})["tokens"]
    url = ctx.topo.ws_urls[0]  # one process holds them all
    pid = ctx.topo.server_pids()[0]
    warm = max(10, n // 100)
    with ctx.fleet(nproc) as fleet:
        first = [[u, tok[u], url] for u in users[:warm]]
        # heartbeats start with the first connection (the server closes a socket silent for
        # IM_WS_IDLE_TIMEOUT_SECONDS, 90 s by default, and connecting takes longer than that)
        fleet.procs[0].call("connect", clients=first, heartbeat=heartbeat)
        time.sleep(0.3 if ctx.quick else 1.0)
        rss0 = rss([pid])
        rest = users[warm:]
        shares = [[[u, tok[u], url] for u in rest[i::nproc]] for i in range(nproc)]
        # a modest number of handshakes in flight: daphne rejects (403) a handshake the
        # application has not accepted within 5 s, so flooding it measures the queue, not the server
        res = fleet.all("connect", per_proc=[{"clients": s} for s in shares], concurrency=20,
                        budget=budget, within=budget + 120, timeout=budget + 150, heartbeat=heartbeat)
        conn_secs = max(r["seconds"] for r in res)
        time.sleep(0.5 if ctx.quick else 3.0)
        rss1 = rss([pid])
        meter = ctx.meter().start()
        idle_res = fleet.all("idle", seconds=seconds, heartbeat=heartbeat, timeout=seconds + 120)
        cpu = meter.stop()
        rss2 = rss([pid])
    live = sum(r["live"] for r in idle_res)
    connected = sum(r["connected"] for r in res)
    timeline = [sum(x) for x in zip(*[r["timeline_10s"] for r in res], strict=False)]
    rtt = summarize([x for r in idle_res for x in r["rtt_ms"]])
    return {
        "params": {"connections": n, "idle_seconds": seconds, "heartbeat_s": heartbeat, "warm_connections": warm,
                   "connect_budget_s": budget, "connect_concurrency": 20 * nproc},
        "metrics": {"connections": live, "connect_seconds": conn_secs,
                    "connect_rate_per_s": round(connected / max(conn_secs, 1e-9), 1),
                    "connected_per_10s": timeline,
                    "not_attempted": sum(r["not_attempted"] for r in res),
                    "connect_errors": {k: v for r in res for k, v in r["errors"].items()},
                    "rss_before_mib": round(rss0 / 2**20, 1), "rss_after_mib": round(rss1 / 2**20, 1),
                    "rss_end_mib": round(rss2 / 2**20, 1),
                    "kib_per_connection": round((rss1 - rss0) / 1024 / max(1, connected), 1),
                    "idle_cpu_percent": cpu.get("server"), "cpu_percent": cpu, "ping_rtt": rtt},
        "checks": _checks(rejected=sum(r["failed"] for r in res),
                          closed=sum(r["closed"] for r in idle_res),
                          ping_errors=sum(sum(r["errors"].values()) for r in idle_res),
                          unanswered=sum(r["pings"] for r in idle_res) - sum(r["pongs"] for r in idle_res)),
    }


# --------------------------------------------------------------------- 6. REST
# the bare Django view: /healthz (imserver/urls.py) is a plain synchronous function view
# returning a small JsonResponse: no DRF, no authentication, no database; it runs through
# the same middleware chain and HTTP threads as every API view, so it is the framework's
# ceiling on this server
BARE_DJANGO_PATH = "/healthz"
# a client opening or resuming the app: mostly "anything new?" syncs, the conversation
# list and the profile, sometimes a full friend page or a group's members
MIX_WEIGHTS = {"since_none": 30, "conversations": 25, "me": 20, "friends": 15, "members": 10}
NO_SINCE = "n/a (no since_version on this build)"


def _http_json(ctx: Ctx, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """One request from the orchestrator (setup and probes, never measured)."""
    import http.client

    from bench.common import dumps, loads

    conn = http.client.HTTPConnection("127.0.0.1", ctx.topo.http_port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=None if body is None else dumps(body), headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, loads(raw) if raw else None
        except ValueError:
            return resp.status, None
    finally:
        conn.close()


def _list_version(ctx: Ctx, token: str) -> int | None:
    """The friend list's version from the plain list answer (None: this build has none)."""
    code, body = _http_json(ctx, "GET", "/api/v1/friends?limit=50", token)
    if code != 200 or not isinstance(body, dict) or not isinstance(body.get("version"), int):
        return None
    return int(body["version"])


def rest(ctx: Ctx) -> dict[str, Any]:
    friends_n, convs, duration, conc, heavy_n = (60, 3, 0.5, 4, 1) if ctx.quick else (500, 20, 10, 16, 3)
    owner = f"{ctx.prefix}rU"
    heavy = ctx.users("rH", heavy_n)  # more users with the same 500 friends, for the mixed workload
    friends = ctx.users("rf", friends_n)
    readers = [owner, *heavy]
    prov = ctx.topo.provision({
        "users": [owner, *heavy, *friends], "tokens": [*readers, *friends[:convs]],
        "friends": [{"owner": u, "friends": friends} for u in readers],
        # a group of friends_n members: the readers and their friends
        "groups": [{"owner": owner, "members": [*readers, *friends[: friends_n - len(readers)]], "name": "bench rest"}],
    })
    tok, gid = prov["tokens"], prov["groups"][0]
    paths = {
        "bare_django": BARE_DJANGO_PATH,
        "friends": "/api/v1/friends?limit=50",
        "conversations": "/api/v1/conversations",
        "me": "/api/v1/users/me",
        "members": f"/api/v1/groups/{gid}/members",
    }
    out: dict[str, Any] = {}
    notes: dict[str, Any] = {"bare_django_view": f"GET {BARE_DJANGO_PATH} (imserver.urls.healthz)",
                             "setup_seconds": prov["seconds"]}
    lost = 0

    def measure(fleet: LoadFleet, name: str, path: str = "", token: str = "",
                mix: list[list[Any]] | None = None) -> None:
        meter = ctx.meter(fleet).start()
        r = fleet.procs[0].call("rest", host="127.0.0.1", port=ctx.topo.http_port, ports=ctx.topo.http_ports,
                                path=path, token=token, concurrency=conc, duration=duration, mix=mix,
                                timeout=duration + 120)
        cpu = meter.stop()
        lat = summarize(r["latency_ms"])
        out[name] = {"rps": r["rps"], "p50_ms": lat["p50"], "p99_ms": lat["p99"], "max_ms": lat["max"],
                     "requests": r["requests"], "status": r["status"], "errors": r["errors"],
                     "body_bytes": r["mean_body_bytes"], "cpu_percent": cpu, "path": path or None}
        if mix:
            out[name]["kinds"] = r["kinds"]

    with ctx.fleet(1) as fleet:
        lg = fleet.procs[0]
        _connect(fleet, [[[u, tok[u], ctx.url(k)] for k, u in enumerate(friends[:convs])]])
        fill = lg.call("fill", tag="r", sends=[[i, owner, 1] for i in range(convs)], count=1, window=1)
        lost += sum(fill["errors"].values())
        lg.call("close")
        for name, path in paths.items():
            measure(fleet, name, path, tok[owner])
        # incremental sync: the version comes from the plain list answer (absent: not on this build)
        versions = {u: _list_version(ctx, tok[u]) for u in readers}
        since = versions[owner]
        if since is None:
            out["since_none"] = {"na": NO_SINCE}
        else:
            measure(fleet, "since_none", f"/api/v1/friends?since_version={since}", tok[owner])
        # the mixed read workload, over the users with 500 friends each
        weights = {k: w for k, w in MIX_WEIGHTS.items() if k != "since_none" or since is not None}
        mix = []
        for u in readers:
            for kind, w in weights.items():
                p = f"/api/v1/friends?since_version={versions[u]}" if kind == "since_none" else paths[kind]
                mix.append([kind, p, tok[u], w])
        measure(fleet, "mixed", mix=mix)
        out["mixed"]["weights"] = weights
        out["mixed"]["users"] = len(readers)
        if since is None:
            out["mixed"]["note"] = "without since-version syncs (not on this build)"
            out["since_few"] = {"na": NO_SINCE}
        else:
            # a few changes through the API: two remarks set, two friends deleted
            codes = [_http_json(ctx, "PATCH", f"/api/v1/friends/{f}", tok[owner], {"remark": "bench"})[0]
                     for f in friends[:2]]
            codes += [_http_json(ctx, "DELETE", f"/api/v1/friends/{f}", tok[owner])[0] for f in friends[2:4]]
            lost += sum(1 for c in codes if c != 200)
            _code, probe = _http_json(ctx, "GET", f"/api/v1/friends?since_version={since}", tok[owner])
            probe = probe if isinstance(probe, dict) else {}
            measure(fleet, "since_few", f"/api/v1/friends?since_version={since}", tok[owner])
            out["since_few"].update({"changes": len(probe.get("changed") or []) + len(probe.get("deleted") or []),
                                     "full": probe.get("full"), "from_version": since,
                                     "to_version": probe.get("version")})
    bare = out["bare_django"]["rps"]
    for row in out.values():
        if "rps" in row:
            row["vs_bare_django"] = round(row["rps"] / bare, 3) if bare else None
    measured = [s for s in out.values() if "rps" in s]
    bad = sum(v for s in measured for k, v in s["status"].items() if k != "200")
    return {
        "params": {"friends": friends_n, "page": 50, "conversations": convs, "group_members": friends_n,
                   "concurrency": conc, "duration_s": duration, "mixed_users": len(readers),
                   "http_ports": len(ctx.topo.http_ports), **notes},
        "metrics": out,
        "checks": _checks(non_200=bad, errors=sum(sum(s["errors"].values()) for s in measured),
                          fill_errors=lost),
    }


SCENARIOS = {
    "latency": latency,
    "throughput": throughput,
    "fanout": fanout,
    "catchup": catchup,
    "idle": idle,
    "rest": rest,
}
