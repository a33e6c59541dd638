#!/usr/bin/python3
"""Checks an OpenMetrics text file against the grammar promtool's parser enforces (the subset
servesim writes): metadata then samples per family, families contiguous, names and labels
well formed, timestamps non-decreasing per series, and '# EOF' last. Runs promtool too when
it is installed. Usage: openmetrics_check.py FILE"""
import re, shutil, subprocess, sys, tempfile

name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
number = r"(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)"
sample = re.compile(r"^(%s)(\{(?:%s(?:,%s)*)?\})? (%s) (%s)$" % (name, label, label, number, number))
typ = re.compile(r"^# TYPE (%s) (gauge|counter|unknown|histogram|summary|stateset|info|gaugehistogram)$" % name)
hlp = re.compile(r"^# HELP (%s) .*$" % name)

lines = open(sys.argv[1]).read().split("\n")
bad = []
if lines[-1] != "" or lines[-2] != "# EOF":
    bad.append("the file must end with '# EOF' and a newline")
seen, current, last_ts = set(), None, {}
for i, l in enumerate(lines[:-2], 1):
    m = typ.match(l) or hlp.match(l)
    if m:
        if m.group(1) != current:
            if m.group(1) in seen:
                bad.append("line %d: family %s is not contiguous" % (i, m.group(1)))
            current = m.group(1)
            seen.add(current)
        continue
    m = sample.match(l)
    if not m:
        bad.append("line %d: not a sample: %r" % (i, l[:120]))
        continue
    if m.group(1) != current:
        bad.append("line %d: sample of %s outside its family %s" % (i, m.group(1), current))
    key = m.group(1) + (m.group(2) or "")
    ts = float(m.group(4))
    if key in last_ts and ts < last_ts[key]:
        bad.append("line %d: timestamp goes backwards for %s" % (i, key))
    last_ts[key] = ts
if not bad and shutil.which("promtool"):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", sys.argv[1], d],
                           capture_output=True, text=True)
        if r.returncode:
            bad.append("promtool: " + r.stderr.strip()[:500])
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
