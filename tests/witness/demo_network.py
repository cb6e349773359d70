#!/usr/bin/env python3
"""`pedigree demo --network` as an integration test: the whole consortium on one machine
(three witnesses under a 2-of-3 policy, a node, a mirror, offline verification, a fork refused
by every witness and by the mirror and caught by the monitor) must exit 0, the mirror must hold
the witnessed size verified and cosigned, the monitor's consistent round must read five sources,
and the monitor's evidence file must hold the split view: two checkpoints of one size with
different roots, one of them the fork every witness refused.

Usage: demo_network.py PEDIGREE_BINARY WORK_DIR. Standard library only."""

import json
import os
import re
import shutil
import subprocess
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    run = subprocess.run([binary, "demo", "--network", "--dir", work], capture_output=True,
                         text=True, timeout=600)
    sys.stdout.write(run.stdout)
    sys.stdout.write(run.stderr)
    if run.returncode != 0:
        fail("demo --network exited %d" % run.returncode)
    summary = run.stdout.strip().splitlines()[-1]
    for part in ("offline verification \u2713", "fork refused by 3/3 \u2713 and the mirror \u2713",
                 "entries, verified \u2713", "monitor consistent over 5 sources \u2713",
                 "monitor evidence \u2713"):
        if part not in summary:
            fail("the summary %r lacks %r" % (summary, part))
    if not re.match(r"witnessed [23]-of-3 \u2713", summary):
        fail("the summary %r does not say witnessed 2-of-3 or 3-of-3" % summary)

    # The mirror: synchronised to the witnessed size, verified, serving its cosignature.
    witnessed = re.search(r"^  the log holds (\d+) entries; the published checkpoint", run.stdout,
                          re.M)
    held = re.search(r"^  mirror holds (\d+) entries, verified \u2713$", run.stdout, re.M)
    if not witnessed or not held or held.group(1) != witnessed.group(1):
        fail("expected the mirror to hold the witnessed size, verified: %r / %r" %
             (witnessed and witnessed.group(0), held and held.group(0)))
    if "its state agrees with the node's" not in run.stdout or \
            not re.search(r"^      \u2014 mirror\.demo\.pedigree\.example \S+$", run.stdout,
                          re.M):
        fail("the mirror's replayed state or its cosignature line is missing")
    mirror_url = re.search(r"^  mirror (http://127\.0\.0\.1:\d+) \(served from ", run.stdout,
                           re.M)
    if not mirror_url:
        fail("the mirror's URL is not printed")
    consistent_round = run.stdout.split("\n4. ")[1].split("\n5. ")[0]
    if "monitor: mirror %s size %s " % (mirror_url.group(1), witnessed.group(1)) \
            not in consistent_round or \
            "round done: 5 sources, 0 failed, 0 split views" not in consistent_round:
        fail("the consistent monitor round did not read the mirror among 5 sources:\n" +
             consistent_round)
    # The mirror refused the fork when the rogue copy was its node, and kept its copy.
    if not re.search(r"^    mirror\.(root_mismatch|conflict): .*$\n"
                     r"  the mirror refused the fork; its copy is unchanged", run.stdout, re.M):
        fail("expected the mirror to refuse the fork with mirror.root_mismatch or conflict")
    token = os.path.join(work, "mirror.token")
    if os.stat(token).st_mode & 0o077:
        fail("the mirror's token file is readable by others: %o" % os.stat(token).st_mode)

    # Each witness refused the fork with 409 or 422.
    refusals = re.findall(r"^  (w[123]) answered (\d{3}) .*\(refused\)$", run.stdout, re.M)
    if sorted(w for w, _ in refusals) != ["w1", "w2", "w3"] or \
            any(s not in ("409", "422") for _, s in refusals):
        fail("expected w1, w2 and w3 to refuse with 409 or 422, saw %r" % refusals)

    # The evidence file the demo names: a split view of one size, with both signed notes.
    paths = re.findall(r"^  monitor exit 4: split view .*; evidence (\S+\.json)$", run.stdout,
                       re.M)
    if len(paths) != 1 or not os.path.isfile(paths[0]):
        fail("expected one evidence file named in the output, saw %r" % paths)
    evidence = json.load(open(paths[0]))
    if evidence.get("type") != "pedigree-monitor-evidence/v1" or \
            evidence.get("kind") != "two_roots_for_one_size":
        fail("evidence type/kind: %r %r" % (evidence.get("type"), evidence.get("kind")))
    a, b = evidence["a"], evidence["b"]
    if a["size"] != b["size"] or a["root"] == b["root"]:
        fail("the evidence does not hold two roots for one size: %r / %r" %
             ((a["size"], a["root"]), (b["size"], b["root"])))
    origin = evidence["origin"]
    for side in (a, b):
        lines = side["note"].split("\n")
        if lines[0] != origin or lines[1] != str(side["size"]) or lines[2] != side["root"]:
            fail("a note in the evidence is not the checkpoint it is filed as: %r" % side)
        if "\n\n\u2014 " + origin + " " not in side["note"]:
            fail("a note in the evidence lacks the log's signature: %r" % side["note"])
    if not any(side["source"].startswith("mirror") for side in (a, b)) or \
            any(mirror_url.group(1) in side["source"] for side in (a, b)):
        fail("neither side of the evidence came from the rogue copy (or one from the real "
             "mirror): %r, %r" % (a["source"], b["source"]))
    # The policy the demo wrote: one log, three witnesses with URLs, quorum 2 of 3.
    policy = open(os.path.join(work, "policy.txt")).read()
    if len(re.findall(r"^witness w[123] \S+ http://127\.0\.0\.1:\d+$", policy, re.M)) != 3 or \
            "group quorum 2 w1 w2 w3" not in policy or "quorum quorum" not in policy:
        fail("unexpected policy file:\n" + policy)
    print("ok: evidence %s" % paths[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
