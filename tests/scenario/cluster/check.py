#!/usr/bin/python3
"""Checks the cluster scenarios' results.h5 against hand arithmetic.
Usage: check.py NAME OUTDIR   (exit 0: all good; prints what is wrong)"""
import json, math, sys
try:
    import h5py
except ImportError:
    print("FAIL: h5py is not installed; tools/bootstrap installs python3-h5py")
    sys.exit(1)

name, out = sys.argv[1], sys.argv[2]
f = h5py.File(out + "/results.h5")
s = json.load(open(out + "/summary.json"))
pods, nodes, reqs = f["/pods"][:], f["/nodes"][:], f["/requests"][:]
bad = []

def near(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(b))

def expect(cond, what):
    if not cond:
        bad.append(what)

r = s["requests"]
expect(r["arrived"] == r["completed"] + r["failed"] + r["dropped"] + r["in_flight_at_end"], "requests not conserved: %s" % r)
expect(len(reqs) == r["arrived"], "/requests has %d rows for %d arrivals" % (len(reqs), r["arrived"]))

def billed(n, end):
    life = (n["deleted_s"] if not math.isnan(n["deleted_s"]) else end) - n["requested_s"]
    return max(life, 60.0)

if name == "phases":
    p = pods[1]
    w = 8.03e9 * 2
    t = {"created_s": 10, "scheduled_s": 10, "image_pulled_s": 30, "weights_ready_s": 35 + w / 1e9,
         "loaded_s": 35 + w / 1e9 + w / 4e9, "ready_s": 79, "endpoint_s": 80}
    for k, v in t.items():
        expect(near(p[k], v, 1e-6), "pod 1 %s = %.6f, expected %.6f" % (k, p[k], v))
    expect(all(pods[0][k] == 0 for k in t), "pod 0 should be up at t=0")
    # dedicated GPUs: each pod's node billed at the catalog price (12.29 $/h per H100)
    end = s["sim_time_s"]
    cost = sum(billed(n, end) * 12.29 / 3600 for n in nodes)
    expect(near(s["cost"]["usd"], cost, 1e-9), "cost %.6f, expected %.6f" % (s["cost"]["usd"], cost))
elif name == "shared":
    for p in pods:
        expect(near(p["weights_ready_s"], 1 + 8.03e9 * 2 / 0.5e9, 1e-6),
               "pod %d weights at %.6f, expected %.6f" % (p["id"], p["weights_ready_s"], 1 + 32.12))
elif name == "pool":
    st = [p["state"].decode() for p in pods]
    expect(st.count("ready") == 2 and st.count("pending") == 3, "states %s" % st)
    p = [p for p in pods if p["id"] == 1][0]
    expect(p["image_pulled_s"] == p["scheduled_s"], "image cached on the node: no pull")
    expect(near(p["weights_ready_s"], p["scheduled_s"] + 5), "weights cached on the node: no download")
    end = s["sim_time_s"]
    cost = sum(billed(n, end) * 10 / 3600 for n in nodes)
    expect(len(nodes) == 1 and near(s["cost"]["usd"], cost, 1e-9), "cost %.6f, expected %.6f" % (s["cost"]["usd"], cost))
    expect(near(nodes[0]["cost_usd"], cost, 1e-9), "/nodes cost %.6f" % nodes[0]["cost_usd"])
elif name == "faults":
    reasons = {n["reason"].decode() for n in nodes}
    expect("spot-interruption" in reasons, "no node lost to a spot interruption: %s" % reasons)
    expect("node-failure" in reasons or "boot-failure" in reasons, "no node failure: %s" % reasons)
    expect(any(p["restarts"] > 0 for p in pods), "no pod restarted after a crash")
    expect(any(p["reason"].decode() == "spot-notice" for p in pods), "no pod evicted on a notice")
    expect(any(p["reason"].decode() == "scale-down" for p in pods), "no pod scaled down")
    expect((reqs["retries"] > 0).any(), "no request retried")
    expect(s["cost"]["usd"] > 0 and s["cost"]["gpu_hours"] > 0, "no cost")
elif name == "hetero":
    v = sorted((p["variant"], p["gpu"].decode()) for p in pods)
    expect(v == [(0, "h100-sxm"), (0, "h100-sxm"), (1, "l4"), (1, "l4")], "placement %s" % v)
    expect(all(p["state"].decode() == "ready" for p in pods), "all four serve")
    served = {int(x) for x in reqs["replica"]}
    expect(served == {0, 1, 2, 3}, "every variant serves: %s" % served)

elif name == "ca":
    byid = {int(n["id"]): n for n in nodes}
    expect(len(nodes) == 2, "%d nodes, expected 2" % len(nodes))
    a, b = byid.get(0), byid.get(1)
    if a is not None and b is not None:
        expect(a["pool"] == b"cheap" and a["reason"] == b"boot-failure" and near(a["deleted_s"], 240),
               "cheap node should be removed at max_node_provision_time (240 s): %s" % (a,))
        # the cheap pool is backing off: the same scan turns to the dear pool
        expect(b["pool"] == b"dear" and near(b["requested_s"], 240) and near(b["ready_s"], 360)
               and near(b["gpus_ready_s"], 390), "dear node timing: %s" % (b,))
        p = pods[0]
        expect(near(p["scheduled_s"], 390), "pod scheduled when the GPUs are allocatable: %s" % p["scheduled_s"])
        # a terminating pod does not hold its node: unneeded from the 1200 s scan that sees the
        # pod draining, deleted scale_down_unneeded_time (180 s) later
        expect(near(b["deleted_s"], 1200 + 180), "scale-down at %.1f, expected %.1f" % (b["deleted_s"], 1200 + 180))
        expect(near(a["cost_usd"], 240 / 3600.0 * 5), "the failed node is billed until it is removed")

elif name == "karpenter":
    # one batch at 61 s (the pods went pending at 60 s, one idle second): three small nodes
    expect([n["pool"] for n in nodes] == [b"small"] * 3, "pools %s: expected three small nodes" % [n["pool"] for n in nodes])
    expect(all(near(n["requested_s"], 61) for n in nodes), "requested at %s, expected 61 s" % [n["requested_s"] for n in nodes])
    gone = [n for n in nodes if n["state"] == b"gone"]
    expect(len(gone) == 2 and all(n["reason"] == b"consolidation" and near(n["deleted_s"], 630) for n in gone),
           "two empty nodes consolidated 30 s after the 600 s scale-down: %s" % gone)
elif name == "karpenter-move":
    a, b = nodes[0], nodes[1]
    expect(len(nodes) == 2 and b["state"] == b"ready", "two nodes, the second stays")
    expect(a["reason"] == b"consolidation" and near(a["deleted_s"], 660), "node a consolidated at 630 s, deleted after the 30 s grace: %s" % (a,))
    moved = [p for p in pods if p["reason"] == b"consolidation"]
    expect(len(moved) == 1 and moved[0]["deployment"] == 0 and near(moved[0]["terminated_s"], 631), "d1's pod drained: %s" % moved)
    repl = [p for p in pods if near(p["created_s"], 630)]
    expect(len(repl) == 1 and repl[0]["node"] == 1 and repl[0]["deployment"] == 0, "its replacement starts on node b: %s" % repl)

elif name == "warm":
    p0, p1, p2 = pods[0], pods[1], pods[2]
    expect(len(pods) == 3, "%d pods, expected 3" % len(pods))
    expect(near(p1["ready_s"], 0) and near(p1["endpoint_s"], 302), "the warm pod serves 2 s after the 300 s scale-up: %s" % (p1,))
    expect(near(p2["created_s"], 300) and p2["state"] == b"warm" and math.isnan(p2["endpoint_s"]),
           "a new warm pod refills the pool and stays out of the router: %s" % (p2,))
    # its startup: pull 10 s, container, weights 16.06 GB at 1 GB/s, load, warm-up, probe
    expect(p2["ready_s"] > p2["loaded_s"] > p2["weights_ready_s"] > p2["image_pulled_s"] > p2["scheduled_s"], "phases in order")
    early = reqs[reqs["arrival_s"] < 300]
    expect((early["replica"] == 0).all(), "before 300 s only the serving pod gets requests")
    expect(set(int(x) for x in reqs["replica"]) == {0, 1}, "the warm pod never serves: %s" % set(reqs["replica"]))

elif name == "ca-move":
    a, b = nodes[0], nodes[1]
    expect(len(nodes) == 2 and b["state"] == b"ready", "two nodes, the second stays")
    expect(a["reason"] == b"scale-down" and near(a["deleted_s"], 820), "node a drained at 790 s, deleted at 820 s: %s" % (a,))
    moved = [p for p in pods if p["reason"] == b"scale-down" and p["node"] == 0 and p["terminated_s"] > 700]
    expect(len(moved) == 1 and near(moved[0]["terminated_s"], 791), "d1's pod on a drained at 790 s: %s" % moved)
    repl = [p for p in pods if near(p["created_s"], 790)]
    expect(len(repl) == 1 and repl[0]["node"] == 1, "its replacement starts on b: %s" % repl)

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
