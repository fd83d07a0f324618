# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each run of runme.sh must have left: its exit code, output and the run report."""

import json
import os
import sys

work, step = sys.argv[1], sys.argv[2]
fleet = os.path.join(work, "reports", "_fleet", "fleet")


def read(name):
    with open(os.path.join(work, name), encoding="utf-8") as handle:
        return handle.read()


def report():
    with open(os.path.join(fleet, "latest.json"), encoding="utf-8") as handle:
        return json.load(handle)


def fail(message):
    print("%s: %s" % (step, message), file=sys.stderr)
    print(read(step + ".out")[-4000:] if os.path.exists(os.path.join(work, step + ".out")) else "", file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


if step == "run1":
    expect(read("run1.rc").strip() != "0", "the run must fail (report.fleet crossed)")
    doc = report()
    summary = doc["summary"]
    hosts = {h["host"]: h for h in doc["hosts"]}
    expect(summary["down_hosts"] == ["down1", "hang1"], "down hosts: %s" % summary["down_hosts"])
    expect(
        hosts["down1"]["reason"].startswith("unreachable:") and "refused" in hosts["down1"]["reason"],
        "down1's reason: %s" % hosts["down1"]["reason"],
    )
    expect(
        hosts["hang1"]["reason"].startswith("unreachable:") and "timed out" in hosts["hang1"]["reason"].lower(),
        "hang1's reason: %s" % hosts["hang1"]["reason"],
    )
    for name in ("down1", "hang1"):
        first = hosts[name]["findings"][0]
        expect(
            first["check"] == "run.host"
            and first["severity"] == "critical"
            and first["summary"].endswith("(rerun with --limit %s)" % name),
            "%s: %s" % (name, first),
        )
    task = [f for f in hosts["tmo1"]["findings"] if f["check"] == "run.task"]
    expect(
        task and task[0]["severity"] == "critical" and "timed out" in task[0]["summary"].lower(),
        "tmo1's task timeout: %s" % hosts["tmo1"]["findings"],
    )
    # Play order: the inventory's.
    expect(
        summary["rerun"] == {"hosts": ["down1", "hang1", "tmo1"], "limit": "--limit down1,hang1,tmo1"},
        "rerun: %s" % summary["rerun"],
    )
    fleet_findings = [f for f in doc["run_findings"] if f["check"] == "report.fleet"]
    expect(
        len(fleet_findings) == 1
        and fleet_findings[0]["severity"] == "critical"
        and "3 of 7 hosts" in fleet_findings[0]["summary"],
        "report.fleet: %s" % doc["run_findings"],
    )
    timing = summary["timing"]
    expect(timing["available"], "timing: %s" % timing)
    expect(set(timing["hosts"]) >= {"web1", "web2", "web3", "slow1", "tmo1"}, "timed: %s" % timing["hosts"])
    expect(timing["hosts"]["slow1"] >= 10.0, "slow1's own time: %s" % timing["hosts"]["slow1"])
    # Lockstep (linear): web1 reached its report as late as slow1, but its own time is short.
    expect(timing["hosts"]["web1"] < timing["hosts"]["slow1"] - 5, "web1: %s" % timing["hosts"])
    expect(
        timing["slowest"]["host"] == "slow1" and timing["slowest"]["check"]["check"] == "slowcheck",
        "slowest: %s" % timing["slowest"],
    )
    expect([s["host"] for s in timing["stragglers"]] == ["slow1"], "stragglers: %s" % timing["stragglers"])
    straggler = [f for f in hosts["slow1"]["findings"] if f["check"] == "report.stragglers"]
    expect(
        straggler and straggler[0]["severity"] == "info" and "slowest check slowcheck" in straggler[0]["summary"],
        "slow1: %s" % hosts["slow1"]["findings"],
    )
    markdown = open(os.path.join(fleet, "latest.md"), encoding="utf-8").read()
    expect(
        "Rerun the failed hosts (down1, hang1, tmo1): `ansible-playbook <playbook> --limit down1,hang1,tmo1`"
        in markdown,
        "the Markdown's rerun line",
    )
    expect("Slowest host slow1:" in markdown and "| slow1 |" in markdown, "the Markdown's timing")
    page = open(os.path.join(fleet, "latest.html"), encoding="utf-8").read()
    expect(
        '<code id="rerun">ansible-playbook &lt;playbook&gt; --limit down1,hang1,tmo1</code>' in page,
        "the page's rerun hint",
    )
    expect('<tr class="straggler"><th scope="row" title="slow1">' in page, "the page's straggler row")
    out = read("run1.out")
    expect(
        "3 of 7 hosts of the fleet run failed or were unreachable, more than stronghold_max_fail_percentage 20%" in out
        and "--limit down1,hang1,tmo1" in out,
        "the run's failure message",
    )
elif step == "run2":
    for sub, shown in (("run2a", "'abc'"), ("run2b", "150")):
        expect(read(sub + ".rc").strip() != "0", "%s must fail" % sub)
        said = read(sub + ".out") + read(sub + ".err")
        expect(
            "stronghold_max_fail_percentage must be an integer from 0 to 100" in said and shown in said,
            "%s's message" % sub,
        )
        expect("Reach the host" not in said, "%s ran a check" % sub)
elif step == "run3":
    doc = report()
    summary = doc["summary"]
    expect(
        not summary["timing"]["available"] and "stronghold.ops.timing" in summary["timing"]["note"],
        "timing: %s" % summary["timing"],
    )
    expect(summary["rerun"]["limit"] == "--limit down1", "rerun: %s" % summary["rerun"])
    expect(not any(f["check"] == "report.fleet" for f in doc["run_findings"]), "report.fleet at 100")
    expect(
        "per-host timing not available" in open(os.path.join(fleet, "latest.md"), encoding="utf-8").read(),
        "the Markdown's note",
    )
else:
    fail("unknown step")
print("%s: ok" % step)
