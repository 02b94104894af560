"""Compares the CloudFormation template that app.py synthesized with the one of app.ts.

    python3 -B compare_templates.py <python template.json> <typescript template.json>

Asset hashes (64 hex digits, in S3 keys, image tags and asset paths) and the CDKMetadata
resource (which names the language of the app) are masked; everything else must be equal. On a
difference it prints the logical ids found in one template only and a unified diff of each
resource that differs, and exits 1. Standard library only.
"""

import difflib
import json
import re
import sys

ASSET_HASH = re.compile(r"[0-9a-f]{64}")
MASK = "<asset-hash>"
MAX_DIFF_LINES = 400


def mask(value, hashes):
    """The value with every asset hash replaced by MASK (each hash seen is added to `hashes`)."""
    if isinstance(value, dict):
        return {mask(k, hashes): mask(v, hashes) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, hashes) for v in value]
    if isinstance(value, str):
        hashes.update(ASSET_HASH.findall(value))
        return ASSET_HASH.sub(MASK, value)
    return value


def load(path):
    with open(path, encoding="utf-8") as f:
        template = json.load(f)
    template.get("Resources", {}).pop("CDKMetadata", None)
    template.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if template.get("Conditions") == {}:
        del template["Conditions"]
    hashes = set()
    return mask(template, hashes), hashes


def pretty(value):
    return json.dumps(value, indent=2, sort_keys=True).splitlines()


def diff(name, python, typescript):
    return list(difflib.unified_diff(pretty(typescript), pretty(python), f"app.ts {name}", f"app.py {name}", lineterm=""))


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} <python template.json> <typescript template.json>")
    python, py_hashes = load(argv[1])
    typescript, ts_hashes = load(argv[2])
    py_resources = python.get("Resources", {})
    ts_resources = typescript.get("Resources", {})

    problems = []
    only_py = sorted(set(py_resources) - set(ts_resources))
    only_ts = sorted(set(ts_resources) - set(py_resources))
    if only_py:
        problems.append(f"{len(only_py)} resource(s) only in the Python app's template: {', '.join(only_py)}")
    if only_ts:
        problems.append(f"{len(only_ts)} resource(s) only in the TypeScript app's template: {', '.join(only_ts)}")

    diff_lines = []
    differing = []
    for logical_id in sorted(set(py_resources) & set(ts_resources)):
        if py_resources[logical_id] != ts_resources[logical_id]:
            differing.append(logical_id)
            diff_lines += diff(f"Resources.{logical_id}", py_resources[logical_id], ts_resources[logical_id])
    if differing:
        problems.append(f"{len(differing)} resource(s) differ: {', '.join(differing)}")
    for section in sorted((set(python) | set(typescript)) - {"Resources"}):
        if python.get(section) != typescript.get(section):
            problems.append(f"section {section} differs")
            diff_lines += diff(section, python.get(section), typescript.get(section))

    same = len(py_resources) - len(only_py) - len(differing)
    hashes = "the same" if py_hashes == ts_hashes else f"{len(py_hashes ^ ts_hashes)} differ (masked)"
    if not problems:
        print(f"templates match: {len(py_resources)} resources, CDKMetadata aside; asset hashes {hashes}")
        return 0

    print("The Python app's template differs from its TypeScript twin's (test/python/app/app.py vs app.ts):")
    for p in problems:
        print(f"  - {p}")
    print(f"  ({same} of {len(ts_resources)} TypeScript resources identical; asset hashes {hashes})")
    if diff_lines:
        print()
        print("\n".join(diff_lines[:MAX_DIFF_LINES]))
        if len(diff_lines) > MAX_DIFF_LINES:
            print(f"... {len(diff_lines) - MAX_DIFF_LINES} more diff lines: compare the two templates named above")
    print()
    print("Make the two apps build the same platform (a change to one needs the same change to the other),")
    print("or fix the library where the Python binding builds something else than TypeScript.")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
