"""Read JUnit files with junitparser (python3-junitparser) and print what it sees, as JSON.

Usage: read_junit.py FILE...  ->  {"FILE": {"verify": 0|1, "cases": [...], "suites": [...]}, ...}
"verify" is `junitparser verify`'s rule (junitparser/cli.py): 1 when a case is neither passed nor skipped.
"""
import json
import math
import sys

from junitparser import Error, Failure, JUnitXml, Skipped


def kind(case):
    for r in case.result:
        if isinstance(r, Failure):
            return "failure"
        if isinstance(r, Error):
            return "error"
        if isinstance(r, Skipped):
            return "skipped"
    return "passed"


def read(path):
    xml = JUnitXml.fromfile(path)
    suites, cases, verify = [], [], 0
    for suite in xml:
        suites.append({"name": suite.name, "tests": suite.tests, "time": suite.time})
        for case in suite:
            if not case.is_passed and not case.is_skipped:
                verify = 1
            texts = [r.text for r in case.result if not isinstance(r, Skipped)]
            cases.append({
                "suite": suite.name, "classname": case.classname, "name": case.name, "kind": kind(case),
                "time": case.time, "texts": texts, "systemOut": case.system_out,
            })
    root_time = xml.time
    return {
        "verify": verify, "suites": suites, "cases": cases,
        "time": None if root_time is None or math.isnan(root_time) else root_time,
    }


print(json.dumps({path: read(path) for path in sys.argv[1:]}))
