import ipaddress
import random

import pytest

from dms.errors import ValidationError
from dms.testnet import plan
from dms.testnet.switch import MacTable, Scheduler, Shaping
from dms.testnet.units import format_ms, parse_duration_ms, parse_percent

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "ms"), [("40ms", 40.0), ("1s", 1000.0), ("1.5s", 1500.0),
                                          ("250us", 0.25), ("0", 0.0), ("12", 12.0),
                                          (" 30 ms ", 30.0), ("2m", 120_000.0), (7, 7.0)])
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "ms", "40 sec", "-1ms", "fast", "1.2.3s"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ValidationError) as e:
        parse_duration_ms(text)
    assert "40ms" in e.value.hint


@pytest.mark.parametrize(("text", "pct"), [("0.1%", 0.1), ("5", 5.0), ("100%", 100.0), ("0%", 0)])
def test_percentages(text, pct):
    assert parse_percent(text) == pct


@pytest.mark.parametrize("text", ["101%", "-1%", "lots", "%"])
def test_bad_percentages(text):
    with pytest.raises(ValidationError):
        parse_percent(text)


def test_format_ms_is_what_tc_reads():
    assert format_ms(40.0) == "40ms"
    assert format_ms(0.5) == "0.5ms"


def test_names_carry_the_id_and_fit_ifnamsiz():
    names = plan.Names("a1b2c3")
    assert names.bridge == "dmsbr-a1b2c3"
    assert names.netns(4) == "dms-a1b2c3-4"
    assert names.veth(249) == "dmsv-a1b2c3-249"
    assert all(len(x) <= 15 for x in (names.bridge, names.veth(249)))
    assert names.owns_link("dmsv-a1b2c3-0") and names.owns_link("dmsbr-a1b2c3")
    assert not names.owns_link("docker0")
    assert not names.owns_link("dmsv-ffffff-0")
    assert names.owns_netns("dms-a1b2c3-1")
    assert not names.owns_netns("dms-a1b2c30-1")
    assert not names.owns_netns("dms-ffffff-1")


def test_ids_are_six_hex_digits():
    ids = {plan.new_id() for _ in range(50)}
    assert len(ids) > 45
    assert all(len(i) == 6 and int(i, 16) >= 0 for i in ids)


def test_subnet_is_private_and_stable():
    s = plan.subnet_for("a1b2c3")
    net = ipaddress.ip_network(s)
    assert s == plan.subnet_for("a1b2c3")
    assert net.prefixlen == 24 and net.is_private
    assert net.subnet_of(ipaddress.ip_network("10.0.0.0/8"))
    assert 200 <= int(s.split(".")[1]) <= 249


def test_node_ips_are_inside_the_subnet_and_distinct():
    s = plan.subnet_for("abcdef")
    ips = [plan.node_ip(s, i) for i in range(250)]
    assert len(set(ips)) == 250
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(s) for ip in ips)
    with pytest.raises(ValueError):
        plan.node_ip(s, 250)


def test_netem_arguments():
    assert plan.netem_args(plan.Shape(30, 0, 0)) == ["netem", "delay", "30ms"]
    assert plan.netem_args(plan.Shape(40, 10, 0.1)) == ["netem", "delay", "40ms", "10ms",
                                                        "loss", "0.1%"]


def test_node_commands_with_netem_attach_to_the_bridge_and_shape_eth0():
    names = plan.Names("abcdef")
    cmds = plan.node_commands(names, 1, "10.210.3.0/24", plan.Shape(30, 5, 0), "netem")
    flat = [" ".join(c) for c in cmds]
    assert flat[0] == "ip netns add dms-abcdef-1"
    assert "ip link add dmsv-abcdef-1 type veth peer name eth0 netns dms-abcdef-1" in flat
    assert "ip link set dmsv-abcdef-1 master dmsbr-abcdef" in flat
    assert "ip -n dms-abcdef-1 addr add 10.210.3.3/24 dev eth0" in flat
    assert "ip -n dms-abcdef-1 link set lo up" in flat
    assert flat[-1] == ("ip netns exec dms-abcdef-1 tc qdisc add dev eth0 root netem "
                        "delay 30ms 5ms")


def test_switch_mode_has_no_bridge_and_no_qdisc():
    names = plan.Names("abcdef")
    flat = [" ".join(c) for c in plan.node_commands(names, 0, "10.210.3.0/24",
                                                     plan.Shape(30), "switch")]
    assert not any("master" in c or "tc " in c for c in flat)


def test_zero_shape_adds_no_qdisc():
    cmds = plan.node_commands(plan.Names("abcdef"), 0, "10.210.3.0/24", plan.Shape(), "netem")
    assert not any("tc" in c for c in cmds)


def test_switch_argv():
    argv = plan.switch_argv("/py", "abcdef", plan.Shape(30, 2, 1.5), ["a", "b"])
    assert argv == ["/py", "-m", "dms.testnet.switch", "--id", "abcdef", "--delay-ms", "30",
                    "--jitter-ms", "2", "--loss", "0.015", "a", "b"]


# -- the delay switch's pure parts ---------------------------------------------------

A, B, BCAST = b"\x02" * 6, b"\x04" * 6, b"\xff" * 6


def test_mac_table_learns_and_floods_unknown_and_broadcast():
    t = MacTable()
    assert t.destinations(B, 0, 3) == [1, 2]
    t.learn(B, 2)
    assert t.destinations(B, 0, 3) == [2]
    assert t.destinations(BCAST, 0, 3) == [1, 2]
    t.learn(BCAST, 1)  # group addresses are never learnt
    assert t.destinations(BCAST, 2, 3) == [0, 1]
    assert t.destinations(B, 2, 3) == []  # never back out of the port it came from


def test_scheduler_delays_and_keeps_per_port_order():
    s = Scheduler(Shaping(0.030, 0.020), random.Random(1))
    for i in range(20):
        s.push(100.0 + i * 0.001, 0, bytes([i]))
    assert s.pop_due(100.009) == []  # nothing leaves before delay - jitter
    out = s.pop_due(200.0)
    assert [f for _, f in out] == [bytes([i]) for i in range(20)]


def test_scheduler_loss():
    s = Scheduler(Shaping(0.0, 0.0, 0.5), random.Random(7))
    kept = sum(s.push(0.0, 0, b"x") for _ in range(1000))
    assert 400 < kept < 600
    s = Scheduler(Shaping(0.0, 0.0, 0.0), random.Random(7))
    assert all(s.push(0.0, 0, b"x") for _ in range(100))
