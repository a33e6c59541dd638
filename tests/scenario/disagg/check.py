#!/usr/bin/python3
"""Checks the disaggregation scenarios against hand arithmetic.
Usage: check.py NAME OUTDIR [OTHER_OUTDIR]   (exit 0: all good; prints what is wrong)"""
import json, sys
try:
    import h5py
except ImportError:
    print("FAIL: h5py is not installed; tools/bootstrap installs python3-h5py")
    sys.exit(1)

name, out = sys.argv[1], sys.argv[2]
f = h5py.File(out + "/results.h5")
s = json.load(open(out + "/summary.json"))
reqs = sorted(f["/requests"][:], key=lambda x: x["id"])
bad = []

def expect(cond, what):
    if not cond:
        bad.append(what)

r = s["requests"]
expect(r["arrived"] == r["completed"] + r["failed"] + r["dropped"] + r["in_flight_at_end"], "requests not conserved: %s" % r)
expect(len(reqs) == r["arrived"], "/requests has %d rows for %d arrivals" % (len(reqs), r["arrived"]))
dur = lambda x: x["transfer_end_s"] - x["transfer_start_s"]

if name == "transfer":
    per_token = 2 * 32 * 8 * 128 * 2  # Llama-3-8B, fp16
    expect(all(x["kv_bytes"] == 1000 * per_token for x in reqs), "KV bytes per request")
    solo = [x for x in reqs if x["workload"] == 0]
    pair = [x for x in reqs if x["workload"] != 0]
    expect(len(solo) > 0 and all(abs(dur(x) - (1000 * per_token / 50e9 + 10e-6)) < 1e-9 for x in solo),
           "alone on the NIC: %s s, expected %s" % ([dur(x) for x in solo], 1000 * per_token / 50e9 + 10e-6))
    expect(len(pair) > 0 and all(abs(dur(x) - (2 * 1000 * per_token / 50e9 + 10e-6)) < 1e-9 for x in pair),
           "two sharing the NIC: %s s, expected %s" % ([dur(x) for x in pair][:4], 2 * 1000 * per_token / 50e9 + 10e-6))
    expect(all(x["prefill_replica"] == 0 and x["decode_replica"] == 1 for x in reqs), "replicas: prefill 0, decode 1")
    # the first token reaches the client from the decode side, when the KV is there
    expect(all(abs(x["first_token_s"] - x["transfer_end_s"]) < 1e-9 for x in reqs), "first token at the transfer's end")
    expect(all(x["output_tokens"] == 20 and x["status"] == 0 for x in reqs), "every request completes with its 20 tokens")
    expect(s["kv_transfer"]["transfers"] == len(reqs) and s["kv_transfer"]["waits"] == 0, "kv_transfer %s" % s["kv_transfer"])
elif name == "reserve":
    expect(s["kv_transfer"]["waits"] > 0, "no request waited for decode blocks: %s" % s["kv_transfer"])
    expect(r["completed"] == r["arrived"], "every request completes after waiting: %s" % r)
    # never more reservations than blocks: at most two requests' KV in flight or decoding at once
    ev = sorted([(x["transfer_start_s"], 1) for x in reqs] + [(x["finish_s"], -1) for x in reqs])
    n = peak = 0
    for _, d in ev:
        n += d
        peak = max(peak, n)
    expect(peak <= 2, "%d requests held decode blocks at once; 640 blocks fit two" % peak)
elif name == "examples":
    g = h5py.File(sys.argv[3] + "/results.h5")
    other = sorted(g["/requests"][:], key=lambda x: x["id"])
    same = len(reqs) == len(other) and all(
        a["arrival_s"] == b["arrival_s"] and a["prompt_tokens"] == b["prompt_tokens"] and a["output_tokens"] == b["output_tokens"]
        for a, b in zip(reqs, other))
    expect(same, "colocated and disaggregated runs see different requests")
    c = json.load(open(sys.argv[3] + "/summary.json"))
    expect(s["tpot_s"]["p99"] < c["tpot_s"]["p99"], "disaggregation should cut the TPOT tail: %s vs %s" % (s["tpot_s"]["p99"], c["tpot_s"]["p99"]))
    expect(s["ttft_s"]["p50"] > c["ttft_s"]["p50"], "and cost some TTFT: %s vs %s" % (s["ttft_s"]["p50"], c["ttft_s"]["p50"]))
    expect(s["kv_transfer"]["transfers"] > 0 and s["kv_transfer"]["bytes"] > 0, "transfers in summary.json")
    expect("prefill" in s["deployments"] and "decode" in s["deployments"], "per-pool breakdowns")

elif name == "autoscale":
    p = {round(float(x["t_s"])): x["value"] for x in f["/timeseries/prefill/replicas_ready"][:]}
    d = {round(float(x["t_s"])): x["value"] for x in f["/timeseries/decode/replicas_ready"][:]}
    first = [p[t] - d[t] for t in p if 900 <= t <= 1750 and t in d]
    second = [d[t] - p[t] for t in p if 2400 <= t <= 3500 and t in d]
    expect(min(first) >= 0 and max(first) > 0, "prefill-heavy half: prefill should outnumber decode")
    expect(min(second) > 0, "decode-heavy half: decode should outnumber prefill")
    ev = f["/scale_events"][:]
    expect({int(e["deployment"]) for e in ev if e["to"] != e["from"]} == {0, 1}, "both pools scale")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
