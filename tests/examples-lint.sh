#!/usr/bin/env bash
# The EXAMPLES of every module (plugins/modules/*.py) and of every filter's documentation
# (plugins/filter/*.yml, and any plugins/filter/*.py that holds EXAMPLES) are real Ansible,
# checked as such: each becomes a play on localhost, which must pass
# `ansible-playbook --syntax-check` and ansible-lint with the repository's .ansible-lint
# (profile production) and .yamllint.
#
#   tests/examples-lint.sh        (VENV: the venv holding ansible-core; default <repo>/.venv)
#
# The text of each EXAMPLES is written unchanged (after a `---` line) into a file whose kind
# ansible-lint knows by its path, so that line lengths, comments and indentation are linted as
# they are in the source:
#   - a list of tasks: tasks/<kind>_<name>.yml, imported by a play on localhost (import_tasks
#     is static: syntax-check resolves every module name and keyword);
#   - a mapping of variables (the filters' convention, `name: "{{ x | filter }}"`):
#     vars/<kind>_<name>.yml, the vars_files of a play;
#   - a list of plays: plays/<kind>_<name>.yml, imported as it is.
# The plays are one playbook (examples.yml): ansible-lint and ansible-playbook each syntax-check
# it once (a process per playbook costs about a second; one each keeps the script near 12 s).
# When the syntax-check fails, each EXAMPLES is syntax-checked alone to name the broken ones.
# Findings are shown at the source's own line (plugins/...:<line>); the rules that .ansible-lint
# only warns about (warn_list) are printed as warnings and do not fail, as in `make lint`.
# ansible-lint's `args` rule (opt-in, experimental) cannot load this collection's modules here
# ("Unable to load module ... for options validation"), so every option a task gives a module
# of this collection is checked against the module's options and aliases as ansible-doc
# renders them (doc fragments merged). A filter documentation that is not valid YAML, or a
# module without EXAMPLES, fails too.
# EXAMPLES_KEEP=1 keeps the generated files (their directory is printed).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
work="$(mktemp -d)"; [ -z "${EXAMPLES_KEEP:-}" ] || echo "work: $work" >&2
trap '[ -n "${EXAMPLES_KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/collections/ansible_collections/stronghold" "$work/ex"
ln -s "$REPO" "$work/collections/ansible_collections/stronghold/ops"
site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
while read -r name; do unset "$name"; done < <(compgen -e | grep '^ANSIBLE_' || true)
export ANSIBLE_COLLECTIONS_PATH="$work/collections:$site"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1
cd "$work/ex"

# Write the files; $work/map.json: generated file -> [source, line of its first line, plugin].
"$PY" - "$REPO" "$work/ex" "$work/map.json" <<'EOF'
import ast
import json
import re
import sys
from pathlib import Path

import yaml

repo, out, map_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
(out / "tasks").mkdir()
(out / "vars").mkdir()
found = []  # (kind, name, source, line of the text's first line, text)


def from_python(path, kind):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "EXAMPLES" and isinstance(node.value, ast.Constant)):
            found.append((kind, path.stem, path, node.value.lineno, node.value.value))
            return True
    return False


for path in sorted((repo / "plugins/modules").glob("*.py")):
    if path.stem != "__init__" and not from_python(path, "module"):
        found.append(("module", path.stem, path, 1, None))
for path in sorted((repo / "plugins/filter").glob("*.py")):
    from_python(path, "filter")
for path in sorted((repo / "plugins/filter").glob("*.yml")):
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines, 1) if re.match(r"EXAMPLES:\s*[|>]", line)), None)
    try:
        text = (yaml.safe_load("\n".join(lines)) or {}).get("EXAMPLES")
    except yaml.YAMLError as exc:
        found.append(("filter", path.stem, path, 1, exc))
        continue
    # A block scalar: its first line is the line after "EXAMPLES: |".
    found.append(("filter", path.stem, path, (start or 0) + 1, text))

mapping = {}
plays = ["---\n"]
(out / "plays").mkdir()
single = out.parent / "single"
single.mkdir()
for kind, name, source, line, text in found:
    rel = str(source.relative_to(repo))
    base = f"{kind}_{name}"
    entry = {"source": rel, "plugin": f"{kind} {name}", "single": str(single / f"{base}.yml")}
    if not isinstance(text, str) or not text.strip():
        mapping[f"(none)/{base}"] = dict(entry, line=line, error=str(text if isinstance(text, Exception) else "no EXAMPLES"))
        continue
    # Line 1 of the file is "---"; the text's leading blank lines are dropped.
    skipped = len(text) - len(text.lstrip("\n"))
    body = "---\n" + text.lstrip("\n").rstrip() + "\n"
    entry["offset"] = line + text[:skipped].count("\n") - 2  # source line = file line + offset
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        data = None
    title = f"- name: EXAMPLES of stronghold.ops.{name} ({rel})\n"
    if isinstance(data, list) and any(isinstance(i, dict) and ("hosts" in i or "import_playbook" in i)
                                      for i in data):
        generated = f"plays/{base}.yml"
        play = title + f"  ansible.builtin.import_playbook: {out}/{generated}\n"
    elif isinstance(data, dict):
        generated = f"vars/{base}.yml"
        play = title + f"  hosts: localhost\n  gather_facts: false\n  vars_files:\n    - {out}/{generated}\n"
    else:
        generated = f"tasks/{base}.yml"
        play = (title + "  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: The EXAMPLES\n"
                f"      ansible.builtin.import_tasks: {out}/{generated}\n")
    (out / generated).write_text(body, encoding="utf-8")
    (single / f"{base}.yml").write_text("---\n" + play, encoding="utf-8")
    plays.append(play)
    mapping[generated] = entry
# One playbook of all: ansible-lint syntax-checks each playbook in a process of its own
# (about a second each), and so does ansible-playbook.
(out / "examples.yml").write_text("".join(plays), encoding="utf-8")
map_path.write_text(json.dumps(mapping), encoding="utf-8")
EOF

: >"$work/syntax.failed"
if ! "$VENV/bin/ansible-playbook" -i localhost, --syntax-check examples.yml >"$work/syntax.out" 2>&1; then
    # Name the broken ones: each alone.
    for playbook in "$work"/single/*.yml; do
        if ! "$VENV/bin/ansible-playbook" -i localhost, --syntax-check "$playbook" >"$work/one.out" 2>&1; then
            basename "$playbook" >>"$work/syntax.failed"
            sed -n '1,12p' "$work/one.out" | sed "s|^|  $(basename "$playbook"): |" >>"$work/syntax.why"
        fi
    done
    [ -s "$work/syntax.failed" ] || { echo "examples.yml" >>"$work/syntax.failed"; sed -n '1,12p' "$work/syntax.out" >>"$work/syntax.why"; }
fi

# The options of every module as ansible-doc has them (doc fragments merged): ansible-lint's
# `args` rule cannot load this collection's modules here, so option names are checked below.
modules=()
for path in "$REPO"/plugins/modules/*.py; do
    name="$(basename "$path" .py)"
    [ "$name" = "__init__" ] || modules+=("stronghold.ops.$name")
done
"$VENV/bin/ansible-doc" -t module --json "${modules[@]}" >"$work/docs.json" 2>/dev/null || echo '{}' >"$work/docs.json"

start=$(date +%s)
"$VENV/bin/ansible-lint" --offline -q -c "$REPO/.ansible-lint" --yamllint-file "$REPO/.yamllint" \
    --project-dir "$work/ex" -f codeclimate "$work/ex" >"$work/lint.json" 2>"$work/lint.err" || true
lint_seconds=$(( $(date +%s) - start ))

"$PY" - "$work/map.json" "$work/lint.json" "$work/lint.err" "$work/syntax.failed" "$work/syntax.why" "$work/ex" \
    "$lint_seconds" "$work/docs.json" <<'EOF'
import json
import os
import sys

import yaml

map_path, lint_path, lint_err, syntax_failed, syntax_why, ex, seconds, docs_path = sys.argv[1:]
mapping = json.load(open(map_path))
problems = {}  # plugin -> [messages]
warnings = []
docs = json.load(open(docs_path))


def tasks_of(items):
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            yield item
            for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                yield from tasks_of(item.get(key))


# Every option a task gives a module of this collection is one the module has (or an alias).
for generated, entry in mapping.items():
    if "error" in entry:
        continue
    data = yaml.safe_load(open(os.path.join(ex, generated)).read())
    for task in tasks_of(data):
        for module, args in task.items():
            doc = (docs.get(module) or {}).get("doc")
            if not module.startswith("stronghold.ops.") or not isinstance(args, dict):
                continue
            if doc is None:
                problems.setdefault(entry["plugin"], []).append(f"{entry['source']}: no documentation of {module}")
                continue
            known = set()
            for name, option in (doc.get("options") or {}).items():
                known |= {name, *(option.get("aliases") or [])}
            for name in sorted(set(args) - known):
                problems.setdefault(entry["plugin"], []).append(
                    f"{entry['source']}: task {task.get('name')!r}: {module} has no option {name}")
for generated, entry in mapping.items():
    if "error" in entry:
        problems.setdefault(entry["plugin"], []).append(f"{entry['source']}: {entry['error']}")
by_single = {os.path.basename(entry["single"]): entry for entry in mapping.values()}
for name in open(syntax_failed).read().split():
    entry = by_single.get(name, {"plugin": "(generated)", "source": name})
    problems.setdefault(entry["plugin"], []).append(f"{entry['source']}: ansible-playbook --syntax-check failed")
why = open(syntax_why).read() if os.path.exists(syntax_why) else ""
try:
    issues = json.loads(open(lint_path).read() or "null")
except ValueError:
    issues = None
if not isinstance(issues, list):
    # ansible-lint itself failed (not findings): every EXAMPLES counts as unchecked.
    for entry in mapping.values():
        problems.setdefault(entry["plugin"], []).append("ansible-lint did not run")
    issues = []
for issue in issues:
    path = os.path.relpath(os.path.join(ex, issue["location"]["path"]), ex)
    location = issue["location"]
    line = (location.get("lines") or {}).get("begin") or ((location.get("positions") or {}).get("begin") or {}).get("line")
    entry = mapping.get(path)
    if entry is None:
        plugin, where = "(generated)", path
    else:
        plugin = entry["plugin"]
        offset = entry.get("offset")
        where = f"{entry['source']}:{line + offset}" if offset is not None and line else f"{entry['source']} ({path})"
    message = f"{where}: {issue.get('check_name')}: {issue.get('description')}"
    if issue.get("severity") == "minor":  # warn_list of .ansible-lint: a warning, as in make lint
        warnings.append(message)
    else:
        problems.setdefault(plugin, []).append(message)
plugins = sorted({entry["plugin"] for entry in mapping.values()})
for message in warnings:
    print("warning: " + message, file=sys.stderr)
for plugin in plugins:
    for message in problems.get(plugin, []):
        print("FAILED: " + message, file=sys.stderr)
for plugin in sorted(set(problems) - set(plugins)):
    for message in problems[plugin]:
        print("FAILED: " + message, file=sys.stderr)
if why:
    print(why, file=sys.stderr, end="")
if not issues and any("ansible-lint did not run" in m for ms in problems.values() for m in ms):
    print(open(lint_err).read()[-3000:], file=sys.stderr)
failed_plugins = [p for p in plugins if p in problems]
failed = len(failed_plugins) + len(set(problems) - set(plugins))
print(f"examples-lint: {len(plugins) - len(failed_plugins)} passed, {failed} failed (ansible-lint {seconds}s)")
sys.exit(1 if failed else 0)
EOF
