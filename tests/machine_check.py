"""The whole suite proves it never touched the machine (scripts/test.sh runs it around every step):

    python tests/machine_check.py save FILE      the machine's links, namespaces and role files
    python tests/machine_check.py compare FILE   exit 1, naming each difference, if they changed

What is compared is conftest.machine_state(), the same the pytest session checks."""

from __future__ import annotations

import json
import sys

from conftest import machine_differences, machine_state


def main(argv: list) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "compare"):
        sys.stderr.write(__doc__)
        return 2
    action, path = argv
    if action == "save":
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(machine_state(), handle)
        return 0
    with open(path, encoding="utf-8") as handle:
        before = json.load(handle)
    problems = machine_differences(before, json.loads(json.dumps(machine_state())))
    for problem in problems:
        print("machine changed: " + problem)
    print("the machine's links, namespaces and role files are as they were" if not problems else
          "%d difference(s) on the machine after the suite" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
