import pytest

from dms.testing import report

pytestmark = pytest.mark.unit

UNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="unit" errors="0" failures="1" skipped="1"
 tests="4" time="1.50">
<testcase classname="tests.unit.x.test_a" name="test_ok" time="0.010"/>
<testcase classname="tests.unit.x.test_a" name="test_ok2" time="0.020"/>
<testcase classname="tests.unit.x.test_a" name="test_bad" time="0.030">
 <failure message="assert 1 == 2">trace &lt;here&gt;</failure></testcase>
<testcase classname="tests.unit.x.test_a" name="test_skip" time="0.000">
 <skipped type="pytest.skip" message="no gpu">why</skipped></testcase>
</testsuite></testsuites>"""

ACCEPTANCE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="acceptance" tests="3" time="9.0">
<testcase classname="tests.acceptance.test_acceptance_features" name="test_node_status" time="1.25">
 <properties><property name="feature" value="Peers and status"/>
 <property name="scenario" value="A node reports its identity"/></properties></testcase>
<testcase classname="tests.acceptance.test_acceptance_features" name="test_grant" time="0.5">
 <properties><property name="feature" value="Capabilities"/>
 <property name="scenario" value="Granting a capability"/></properties>
 <skipped type="pytest.xfail" message="pending: feature not built yet"/></testcase>
<testcase classname="tests.acceptance.test_acceptance_features" name="test_known_bug" time="0.1">
 <properties><property name="feature" value="Capabilities"/>
 <property name="scenario" value="Revoking &lt;x&gt;"/></properties>
 <skipped type="pytest.xfail" message="bug 12"/></testcase>
</testsuite></testsuites>"""


@pytest.fixture
def reports(tmp_path):
    (tmp_path / "unit.xml").write_text(UNIT)
    (tmp_path / "acceptance.xml").write_text(ACCEPTANCE)
    return tmp_path


def test_counts_per_stage(reports):
    unit, acc = report.load_stages(reports)
    assert unit.name == "unit" and acc.name == "acceptance"  # pipeline order, not a-z
    assert unit.counts() == {"passed": 2, "failed": 1, "skipped": 1}
    assert unit.time_s == 1.5
    assert acc.counts() == {"passed": 1, "pending": 1, "xfailed": 1}


def test_acceptance_rows_use_feature_and_scenario_properties(reports):
    acc = report.load_stages(reports)[1]
    assert [(c.feature, c.scenario, c.outcome) for c in acc.cases] == [
        ("Peers and status", "A node reports its identity", "passed"),
        ("Capabilities", "Granting a capability", "pending"),
        ("Capabilities", "Revoking <x>", "xfailed")]


def test_html_page(reports):
    assert report.main([str(reports)]) == 0
    page = (reports / "index.html").read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "<td>Peers and status</td>" not in page  # rowspan cell, not a bare one
    assert "Peers and status" in page and "A node reports its identity" in page
    assert "<td class='pending' title='pending: feature not built yet'>pending</td>" in page
    assert "Revoking &lt;x&gt;" in page  # escaped
    assert "tests.unit.x.test_a::test_bad" in page and "assert 1 == 2" in page
    assert "<td class='failed'>failed</td>" in page  # the unit stage's verdict


def test_a_bare_testsuite_and_a_missing_dir(tmp_path, capsys):
    (tmp_path / "functional.xml").write_text(
        '<testsuite name="pytest" tests="1"><testcase classname="a" name="b" time="2"/>'
        "</testsuite>")
    (stage,) = report.load_stages(tmp_path)
    assert stage.name == "functional" and stage.counts() == {"passed": 1}
    assert report.main([str(tmp_path / "nope")]) == 2
    assert "reports/" in capsys.readouterr().err


def test_stages_without_xml_come_from_stages_tsv(reports):
    (reports / "stages.tsv").write_text("lint\t0\t3\ntypes\t1\t20.5\nunit\t1\t9\nbad line\n")
    stages = report.load_stages(reports)
    assert [s.name for s in stages] == ["lint", "types", "unit", "acceptance"]
    assert [report._verdict(s) for s in stages] == ["passed", "failed", "failed", "passed"]
    page = report.render(stages)
    assert "<td>lint</td><td class='passed'>passed</td><td class='n'>-</td>" in page
    assert "<td>types</td><td class='failed'>failed</td>" in page
