#!/usr/bin/python3
"""Checks the autoscaling examples' results.h5: decisions recorded, replicas follow the load.
Usage: check.py NAME OUTDIR   (exit 0: all good; prints what is wrong)"""
import json, sys
try:
    import h5py
except ImportError:
    print("FAIL: h5py is not installed; tools/bootstrap installs python3-h5py")
    sys.exit(1)

name, out = sys.argv[1], sys.argv[2]
f = h5py.File(out + "/results.h5")
s = json.load(open(out + "/summary.json"))
ev = f["/scale_events"][:]
bad = []

def expect(cond, what):
    if not cond:
        bad.append(what)

r = s["requests"]
expect(r["arrived"] == r["completed"] + r["failed"] + r["dropped"] + r["in_flight_at_end"], "requests not conserved: %s" % r)
expect(len(ev) > 0, "no /scale_events")
ups = [e for e in ev if e["to"] > e["from"]]
downs = [e for e in ev if e["to"] < e["from"]]
expect(len(ups) > 0 and len(downs) > 0, "expected scale-ups and scale-downs: %d up, %d down" % (len(ups), len(downs)))
ser = lambda m: f["/timeseries/%s/%s" % (dep, m)][:]

if name == "hpa-ramp":
    dep = "chat"
    expect(all(e["controller"] == b"hpa" for e in ev), "only the hpa decides")
    # one decision per sync period (15 s), the first one sync period after the start
    t = [float(e["t_s"]) for e in ev]
    expect(t[0] == 15.0 and all(abs(b - a - 15.0) < 1e-9 for a, b in zip(t, t[1:])), "decisions every 15 s from 15 s")
    # the first scale-up follows the first waiting queue over the target (4 per pod, 10 %
    # tolerance) by at most scrape (15) + lag (15) + sync (15) + the series' sampling (10) seconds
    w, rd = ser("vllm:num_requests_waiting"), ser("replicas_ready")
    over = [a["t_s"] for a, b in zip(w, rd) if b["value"] > 0 and a["value"] / b["value"] > 4.4]
    expect(len(over) > 0, "the waiting queue never exceeds the target")
    if over:
        d = float(ups[0]["t_s"]) - over[0]
        expect(-10.0 <= d <= 55.0, "first scale-up %.0f s after the queue crossed the target (expected 0-55 s)" % d)
    expect(ups[0]["t_s"] >= 300, "no scale-up before the ramp starts (5 min)")
    # the new pods serve one startup later; replicas are up at the peak, back to 1 at the end
    ready = {round(float(x["t_s"])): x["value"] for x in rd}
    peak = [v for t, v in ready.items() if 1500 <= t <= 2100]
    expect(min(peak) >= 4, "at the 20 req/s plateau at least 4 replicas serve: min %s" % min(peak))
    desired = ser("replicas_desired")
    expect(desired[-1]["value"] == 1, "back to minReplicas at the end: %s" % desired[-1]["value"])
    expect(all(e["to"] <= 10 and e["to"] >= 1 for e in ev), "within minReplicas..maxReplicas")
    # scale-down honours the Pods policy: at most one pod per 60 s
    dt = [float(b["t_s"]) - float(a["t_s"]) for a, b in zip(downs, downs[1:]) if a["from"] - a["to"] == 1]
    expect(all(x >= 60 for x in dt), "scale-downs closer than the 60 s policy period: %s" % dt)
elif name == "scale-to-zero":
    dep = "fn"
    zero = [e for e in ev if e["to"] == 0]
    expect(len(zero) >= 2, "scales to zero in each gap: %d" % len(zero))
    expect(any(e["from"] == 0 and e["to"] >= 1 for e in ev), "and back from zero")
    expect(any(e["reason"] == b"panic" for e in ev), "bursts cause panic mode")
    expect(r["failed"] == 0 and r["dropped"] == 0, "the activator loses nothing: %s" % r)
elif name == "keda-queue":
    dep = "batch"
    expect(ev[0]["controller"] == b"keda" and ev[0]["reason"] == b"activated" and ev[0]["from"] == 0, "first: activation")
    expect(ev[-1]["controller"] == b"keda" and ev[-1]["to"] == 0, "last: back to zero after cooldown")
    # the running-requests trigger (activation 0) is active while anything runs; zero comes
    # cooldownPeriod (300 s) after the last active poll (15 s polls, 10 s series sampling)
    run = ser("vllm:num_requests_running")
    last = max(float(x["t_s"]) for x in run if x["value"] > 0)
    tz = float(ev[-1]["t_s"])
    expect(last + 300 - 15 <= tz <= last + 300 + 25, "zero at %.0f s, last activity %.0f s: cooldown 300 s" % (tz, last))
elif name == "predictive":
    dep = "chat"
    # from the second season on, capacity rises before the load: a scale-up from the
    # trough comes on a forecast, within the first minutes of the season
    second = [e for e in ups if 1200 <= e["t_s"] < 1260]
    expect(len(second) > 0 and second[0]["reason"] == b"forecast", "no forecast scale-up at the season's start")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
