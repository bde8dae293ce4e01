"""The QA page: ``python -m dms.testing.report reports/`` -> ``reports/index.html``.

Reads every JUnit XML file in the directory (one per ``scripts/test`` stage: unit.xml,
functional.xml, acceptance.xml, ...) and writes one static HTML page, readable from
disk without a server or JavaScript:

    summary         stage -> total, passed, failed, errors, skipped, pending, time
    acceptance      feature -> scenario -> result, duration
    failures        every failed test with its message (collapsed)

Stages without JUnit XML (lint, types) appear when ``scripts/test`` also writes
``stages.tsv``: one ``stage<TAB>exit code<TAB>seconds`` line per stage it ran.

Outcomes: a ``<skipped type="pytest.xfail">`` whose message starts with "pending" is a
pending scenario (a feature not built yet), any other xfail is "xfailed"; an
XPASS(strict) is a failure, as pytest says. Acceptance rows are grouped by the testcase
properties ``feature`` and ``scenario`` (the acceptance conftest records them).
"""

from __future__ import annotations

import html
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

STAGE_ORDER = ["lint", "types", "unit", "functional", "acceptance"]
OUTCOMES = ["passed", "failed", "error", "skipped", "pending", "xfailed"]


@dataclass
class Case:
    classname: str
    name: str
    time_s: float
    outcome: str
    message: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        return self.properties.get("feature") or self.classname.rsplit(".", 1)[-1]

    @property
    def scenario(self) -> str:
        return self.properties.get("scenario") or self.name


@dataclass
class Stage:
    name: str
    cases: list[Case]
    time_s: float
    rc: int | None = None  # the exit code scripts/test recorded, when known

    def counts(self) -> Counter[str]:
        return Counter(c.outcome for c in self.cases)


def _outcome(tc: ET.Element) -> tuple[str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error")):
        el = tc.find(tag)
        if el is not None:
            return outcome, el.get("message") or (el.text or "")
    sk = tc.find("skipped")
    if sk is not None:
        msg = sk.get("message") or ""
        if sk.get("type") == "pytest.xfail":
            return ("pending" if msg.lower().startswith("pending") else "xfailed"), msg
        return "skipped", msg
    return "passed", ""


def parse_junit(path: Path) -> Stage:
    """One stage from a JUnit XML file (``<testsuites>`` or a bare ``<testsuite>``)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    cases: list[Case] = []
    total = 0.0
    for suite in suites:
        total += float(suite.get("time") or 0)
        for tc in suite.iter("testcase"):
            outcome, msg = _outcome(tc)
            props = {p.get("name", ""): p.get("value", "") for p in tc.iter("property")}
            cases.append(Case(tc.get("classname", ""), tc.get("name", ""),
                              float(tc.get("time") or 0), outcome, msg, props))
    name = suites[0].get("name") if suites else None
    if not name or name == "pytest":
        name = path.stem
    return Stage(name, cases, total)


def read_stage_results(path: Path) -> dict[str, tuple[int, float]]:
    """``stages.tsv``: stage -> (exit code, seconds); malformed lines are ignored."""
    out: dict[str, tuple[int, float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            try:
                out[parts[0]] = (int(parts[1]), float(parts[2]))
            except (IndexError, ValueError):
                continue
    return out


def load_stages(directory: Path) -> list[Stage]:
    stages = [parse_junit(p) for p in sorted(directory.glob("*.xml"))]
    results = read_stage_results(directory / "stages.tsv")
    for st in stages:
        if st.name in results:
            st.rc = results[st.name][0]
    known = {st.name for st in stages}
    stages += [Stage(name, [], secs, rc) for name, (rc, secs) in results.items()
               if name not in known]
    rank = {n: i for i, n in enumerate(STAGE_ORDER)}
    return sorted(stages, key=lambda s: (rank.get(s.name, len(rank)), s.name))


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}
th{background:#f3f3f3} td.n{text-align:right}
.passed{background:#dff5df}.failed,.error{background:#fadcdc}
.pending{background:#fff3c4}.skipped,.xfailed{background:#eee}
pre{white-space:pre-wrap;font-size:12px;background:#f8f8f8;padding:6px}
"""


def _e(s: object) -> str:
    return html.escape(str(s))


def _verdict(s: Stage) -> str:
    c = s.counts()
    if s.rc is not None and s.rc != 0:
        return "failed"
    return "failed" if c["failed"] or c["error"] else "passed"


def render(stages: list[Stage], title: str = "dms test report") -> str:
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
           f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>",
           f"<p>Generated {_e(time.strftime('%Y-%m-%d %H:%M:%S %Z'))}.</p>"]
    out.append("<h2>Stages</h2><table><tr><th>stage</th><th>result</th><th>total</th>"
               + "".join(f"<th>{o}</th>" for o in OUTCOMES) + "<th>time (s)</th></tr>")
    for s in stages:
        n = s.counts()
        v = _verdict(s)
        cells = ([str(len(s.cases))] + [str(n[o]) for o in OUTCOMES] if s.cases
                 else ["-"] * (len(OUTCOMES) + 1))
        out.append(f"<tr><td>{_e(s.name)}</td><td class='{v}'>{v}</td>"
                   + "".join(f"<td class='n'>{x}</td>" for x in cells)
                   + f"<td class='n'>{s.time_s:.1f}</td></tr>")
    out.append("</table>")
    if not stages:
        out.append("<p>No JUnit XML files found.</p>")
    for s in stages:
        if s.name == "acceptance":
            out.append(_acceptance(s))
    failed = [(s, c) for s in stages for c in s.cases if c.outcome in ("failed", "error")]
    if failed:
        out.append("<h2>Failures</h2>")
        for s, c in failed:
            out.append(f"<details><summary class='{c.outcome}'>[{_e(s.name)}] "
                       f"{_e(c.classname)}::{_e(c.name)}</summary><pre>{_e(c.message)}</pre>"
                       "</details>")
    out.append("</body></html>\n")
    return "\n".join(out)


def _acceptance(s: Stage) -> str:
    rows = ["<h2>Acceptance: features and scenarios</h2><table><tr><th>feature</th>"
            "<th>scenario</th><th>result</th><th>time (s)</th></tr>"]
    by_feature: dict[str, list[Case]] = {}
    for c in s.cases:
        by_feature.setdefault(c.feature, []).append(c)
    for feature in sorted(by_feature):
        cases = by_feature[feature]
        for i, c in enumerate(cases):
            head = (f"<td rowspan='{len(cases)}'>{_e(feature)}</td>" if i == 0 else "")
            rows.append(f"<tr>{head}<td>{_e(c.scenario)}</td><td class='{c.outcome}' "
                        f"title='{_e(c.message)}'>{c.outcome}</td>"
                        f"<td class='n'>{c.time_s:.2f}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "reports")
    if not directory.is_dir():
        print(f"error: {directory} is not a directory\nhint: pass the reports/ folder "
              "that scripts/test writes", file=sys.stderr)
        return 2
    target = directory / "index.html"
    target.write_text(render(load_stages(directory)))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
