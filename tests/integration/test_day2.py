"""Day 2: what users do after the first build - edits, crashes, concurrent runs, contradictory
documents, check mode that must tell the truth. Each case is a regression test on the real
kernel, run through the modules' public interface inside the test's own sandbox."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time

from conftest import COLLECTIONS, ROOT

MODULE = "topology"


def two_namespaces(sandbox):
    """The README's whole-host example: mac1 in ns1, mac2 in ns2, both on eth1."""
    sandbox.veth("eth1", "eth1sw")
    return {
        "namespaces": [{"name": sandbox.ns("ns1"), "sysctls": {"net.ipv4.conf.all.arp_ignore": 1}},
                       {"name": sandbox.ns("ns2")}],
        "links": [
            {"kind": "macvlan", "name": "mac1", "parent": "eth1", "mode": "bridge", "netns": sandbox.ns("ns1"),
             "addresses": ["192.168.56.122/24"]},
            {"kind": "macvlan", "name": "mac2", "parent": "eth1", "mode": "bridge", "netns": sandbox.ns("ns2"),
             "addresses": ["192.168.56.123/24"]},
        ],
    }


def edit_converges(sandbox, doc, watch):
    """An edit of an applied document: check mode predicts it, the run does it, a rerun is a no-op."""
    return sandbox.converge(MODULE, doc, watch=watch)


def test_editing_an_address_in_a_document_with_namespaces(sandbox):
    doc = two_namespaces(sandbox)
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    sandbox.converge(MODULE, doc, watch=(ns1, ns2))
    doc["links"][0]["addresses"] = ["192.168.56.124/24"]
    result = edit_converges(sandbox, doc, (ns1, ns2))
    assert result["actions"] == ["ip -n %s addr del 192.168.56.122/24 dev mac1" % ns1,
                                 "ip -n %s addr add 192.168.56.124/24 dev mac1" % ns1]
    assert sandbox.addresses("mac1", netns=ns1) == ["192.168.56.124/24"]


def test_editing_neighbors_and_routes_in_a_document_with_namespaces(sandbox):
    doc = two_namespaces(sandbox)
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    sandbox.converge(MODULE, doc, watch=(ns1, ns2))
    edited = copy.deepcopy(doc)
    edited["namespaces"][0]["neighbors"] = [{"address": "192.168.56.123", "lladdr": "02:00:00:00:00:23",
                                             "dev": "mac1"}]
    edited["namespaces"][1]["routes"] = [{"dest": "10.9.0.0/16", "dev": "mac2"}]
    edited["links"][0]["routes"] = ["192.0.2.10/32"]
    edit_converges(sandbox, edited, (ns1, ns2))
    assert "192.168.56.123 dev mac1 lladdr 02:00:00:00:00:23 PERMANENT" in sandbox.ip("neigh", "show", netns=ns1)
    assert "10.9.0.0/16 dev mac2" in sandbox.ip("route", "show", netns=ns2)
    assert "192.0.2.10 dev mac1" in sandbox.ip("route", "show", netns=ns1)


# -- crashes ---------------------------------------------------------------------------
def start(sandbox, module, args, env=None):
    """A module run as a process of its own (to kill it, or to race another), as Ansible starts it."""
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    with handle:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=False, _ansible_diff=True)}, handle)
    environment = dict(os.environ, PYTHONPATH=str(COLLECTIONS), **(env or {}))
    proc = subprocess.Popen(sandbox.enter([sys.executable, str(ROOT / "plugins" / "modules" / (module + ".py")),
                                           handle.name]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    proc.args_file = handle.name
    return proc


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    os.unlink(proc.args_file)
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError("module printed no JSON (rc=%s):\n%s\n%s" % (proc.returncode, out, err))


def many_namespaces(sandbox, count=12):
    sandbox.veth("eth1", "eth1sw")
    return {
        "namespaces": [{"name": sandbox.ns("n%d" % i)} for i in range(count)],
        "links": [{"kind": "macvlan", "name": "m%d" % i, "parent": "eth1", "mode": "bridge",
                   "netns": sandbox.ns("n%d" % i), "addresses": ["10.1.%d.1/24" % i]} for i in range(count)],
    }


def test_a_leftover_file_under_run_netns_is_repaired(sandbox):
    """A run killed inside `ip netns add` leaves an empty file where the namespace was to be mounted."""
    doc = two_namespaces(sandbox)
    ns1 = sandbox.ns("ns1")
    sandbox.exec("touch", "/run/netns/" + ns1)
    result = sandbox.converge(MODULE, doc, watch=(sandbox.ns("ns2"),))
    assert "ip netns add %s" % ns1 in result["actions"]
    assert sandbox.addresses("mac1", netns=ns1) == ["192.168.56.122/24"]
    # anything else in the way is refused, by name, without a traceback
    sandbox.exec("sh", "-c", "echo x > /run/netns/%s" % sandbox.ns("ns3"))
    failed = sandbox.run("netns", {"name": sandbox.ns("ns3")})
    assert failed["failed"] is True and "not an empty file" in failed["msg"], failed


def test_a_link_whose_creation_was_cut_short_is_finished_or_purged(sandbox):
    """The owner's link group is set in the creating request; the alias comes with `up`. A kill in
    between leaves a link with the group only: it is still recognisably ours."""
    sandbox.veth("eth1", "eth1sw")
    sandbox.ip("link", "add", "link", "eth1", "name", "cut1", "group", "19534", "type", "macvlan", "mode", "bridge")
    sandbox.ip("link", "add", "link", "eth1", "name", "cut2", "group", "19534", "type", "macvlan", "mode", "bridge")
    doc = {"links": [{"kind": "macvlan", "name": "cut1", "parent": "eth1", "mode": "bridge"}]}
    result = sandbox.converge(MODULE, dict(doc, state="overridden"))
    assert "ip link set dev cut1 alias linuxnet.macvlan" in result["actions"]
    assert "ip link del dev cut2" in result["actions"], "the unfinished, unlisted link is ours: purged by itself"
    links = sandbox.links()
    assert "cut2" not in links and links["cut1"].get("ifalias") == "linuxnet.macvlan"


def test_a_run_killed_at_any_moment_leaves_a_host_the_next_run_converges(sandbox):
    doc = many_namespaces(sandbox)
    for delay in (0.15, 0.25, 0.35, 0.5):
        proc = start(sandbox, MODULE, doc)
        time.sleep(delay)
        proc.kill()
        proc.wait()
        os.unlink(proc.args_file)
        again = sandbox.run(MODULE, doc)
        assert not again.get("failed"), (delay, again)
        assert sandbox.run(MODULE, doc)["changed"] is False
        # whatever the killed run had made carries the owner mark: an empty layout removes all of it
        gone = sandbox.run(MODULE, {"state": "overridden"})
        assert not gone.get("failed"), gone
        assert sandbox.netns_names() == [] and set(sandbox.links()) == {"lo", "eth1", "eth1sw"}


# -- concurrency -----------------------------------------------------------------------
def test_two_runs_at_once_both_end_converged(sandbox):
    doc = many_namespaces(sandbox)
    first, second = start(sandbox, MODULE, doc), start(sandbox, MODULE, doc)
    results = [finish(first), finish(second)]
    assert [r.get("failed", False) for r in results] == [False, False], results
    assert sorted(r["changed"] for r in results) == [False, True], "the second waited, then found nothing to do"
    assert sandbox.run(MODULE, doc)["changed"] is False
    assert len(sandbox.netns_names()) == 12


def test_a_run_waits_for_the_lock_a_bounded_time(sandbox):
    holder = subprocess.Popen(sandbox.enter(["flock", "/run/lock/linuxnet-macvlan.lock", "sleep", "30"]))
    try:
        time.sleep(0.3)
        proc = start(sandbox, "netns", {"name": sandbox.ns("x")}, env={"LINUXNET_MACVLAN_LOCK_TIMEOUT": "1"})
        result = finish(proc)
    finally:
        holder.kill()
        holder.wait()
    assert result["failed"] is True and result["changed"] is False
    assert "held this host's lock" in result["msg"] and "LINUXNET_MACVLAN_LOCK_TIMEOUT" in result["msg"]
    assert not sandbox.netns_exists(sandbox.ns("x"))


# -- contradictory documents and honest rollback ---------------------------------------
def test_a_link_in_a_namespace_the_document_removes_is_refused(sandbox, failing):
    doc = two_namespaces(sandbox)
    sandbox.run(MODULE, doc)
    doc["namespaces"][0]["state"] = "absent"
    result = failing(MODULE, doc, watch=(sandbox.ns("ns1"), sandbox.ns("ns2")))
    assert "links[0].netns: netns %s is removed by namespaces[0] (state: absent)" % sandbox.ns("ns1") in result["msg"]


def test_a_child_on_a_bridge_the_document_removes_is_refused(sandbox, failing):
    doc = {"links": [{"kind": "bridge", "name": "br0"},
                     {"kind": "macvlan", "name": "mv0", "parent": "br0", "mode": "bridge"}]}
    sandbox.run(MODULE, doc)
    sandbox.ip("link", "add", "link", "br0", "name", "theirs", "type", "macvlan")
    doc["links"][0]["state"] = "absent"
    result = failing(MODULE, doc, watch=())
    assert "links[1].parent: br0 in the host namespace is removed by links[0] (state: absent)" in result["msg"]
    # removing the bridge alone would take the hand-made macvlan along: refused too
    result = failing(MODULE, {"links": [{"kind": "bridge", "name": "br0", "state": "absent"},
                                        {"kind": "macvlan", "name": "mv0", "state": "absent"}]})
    assert "would also delete macvlan theirs" in result["msg"]
    assert "theirs" in sandbox.links()


def test_rollback_says_what_it_could_not_restore(sandbox):
    """A deleted namespace cannot come back: the failure says so instead of claiming it was undone;
    a deleted link comes back with the mark it had (someone else's alias), never ours."""
    sandbox.run("netns", {"name": sandbox.ns("old1")})
    sandbox.ip("link", "add", "br9", "type", "bridge")
    sandbox.ip("link", "set", "br9", "alias", "made-by-hand")
    new = sandbox.ns("new")
    doc = {"namespaces": [{"name": sandbox.ns("old1"), "state": "absent"},
                          {"name": new, "sysctls": {"net.ipv6.conf.all.disable_ipv6": 1,
                                                    "net.ipv6.conf.default.disable_ipv6": 1}}],
           "links": [{"kind": "bridge", "name": "br9", "state": "absent"},
                     {"kind": "bridge", "name": "br1", "netns": new, "addresses": ["fd00::1/64"]}]}
    result = sandbox.run(MODULE, doc)
    assert result["failed"] is True and result["changed"] is True, result
    assert "ip netns del %s" % sandbox.ns("old1") not in result["rolled_back"]
    assert "ip netns del %s (cannot be undone)" % sandbox.ns("old1") in result["rollback_errors"]
    assert "ip link del dev br9" in result["rolled_back"]
    br9 = sandbox.links()["br9"]
    assert br9.get("ifalias") == "made-by-hand" and br9.get("group") in (None, "default"), br9
    assert not sandbox.netns_exists(new)


# -- check mode tells the truth ----------------------------------------------------------
def test_passthru_child_mac_is_the_parents(sandbox, failing):
    sandbox.veth("eth2", "eth2sw")
    parent_mac = sandbox.links()["eth2"]["address"]
    base = {"kind": "macvlan", "name": "pt0", "parent": "eth2", "mode": "passthru"}
    for check in (True, False):
        result = failing(MODULE, {"links": [dict(base, macaddress="02:00:00:00:00:aa")]}, check=check)
        assert "links[0].macaddress: a passthru macvlan always has its parent's MAC (%s)" % parent_mac \
            in result["msg"], result
    result = sandbox.converge(MODULE, {"links": [base]})
    assert result["layout"]["links[0]"]["macaddress"] == parent_mac
    # changing it in place would rewrite the parent's MAC: refused, and the parent keeps its own
    failing("macvlan_link", {"name": "pt0", "parent": "eth2", "mode": "passthru", "macaddress": "02:00:00:00:00:bb"},
            field="macaddress")
    assert sandbox.links()["eth2"]["address"] == parent_mac


def test_a_child_mtu_above_the_mtu_its_new_parent_gets_is_refused_in_check_mode(sandbox, failing):
    doc = {"links": [{"kind": "bridge", "name": "br0", "mtu": 1400},
                     {"kind": "macvlan", "name": "mv0", "parent": "br0", "mode": "bridge", "mtu": 1500}]}
    for check in (True, False):
        result = failing(MODULE, doc, check=check)
        assert "links[1].mtu: 1500 is above the MTU of parent br0 (1400 as this plan sets it)" in result["msg"], result
    doc["links"][1]["mtu"] = 1400
    sandbox.converge(MODULE, doc)


def test_children_the_kernel_would_refuse_together_are_refused_first(sandbox, failing):
    sandbox.veth("eth3", "eth3sw")
    parent_mac = sandbox.links()["eth3"]["address"]
    mv = {"kind": "macvlan", "parent": "eth3", "mode": "bridge"}
    # one MAC twice among listed children, or the parent's own MAC on a child
    doc = {"links": [dict(mv, name="m1", macaddress="02:00:00:00:00:31"),
                     dict(mv, name="m2", macaddress="02:00:00:00:00:31")]}
    result = failing(MODULE, doc, check=True)
    assert "links[1].macaddress: 02:00:00:00:00:31 on eth3 in the host namespace is also links[0]'s" in result["msg"]
    result = failing(MODULE, {"links": [dict(mv, name="m1", macaddress=parent_mac)]})
    assert "already used on eth3 (by the parent itself)" in result["msg"], result
    # a MAC an existing child already has
    sandbox.run(MODULE, {"links": [dict(mv, name="m1", macaddress="02:00:00:00:00:31")]})
    result = failing("macvlan_link", dict(mv, name="m2", macaddress="02:00:00:00:00:31"), field="macaddress")
    assert "by m1" in result["msg"]
    # rendered documents are checked the same way (no kernel needed): one VLAN id twice, ipvlan beside macvlan
    result = sandbox.run(MODULE, {"state": "rendered", "links": [
        {"kind": "vlan", "name": "v1", "parent": "eth3", "vlan_id": 10},
        {"kind": "vlan", "name": "v2", "parent": "eth3", "vlan_id": 10},
        {"kind": "ipvlan", "name": "i1", "parent": "eth9"}, dict(mv, name="m9", parent="eth9")]})
    assert result["failed"] is True
    assert "links[1].vlan_id: VLAN 10 (802.1Q) on eth3 in the host namespace is also links[0]'s" in result["msg"]
    assert "links[2].parent: eth9 in the host namespace gets ipvlan and macvlan/macvtap children" in result["msg"]


def test_deleting_a_primary_and_a_secondary_address_together(sandbox):
    """Found by the generative test in CI: [.10, .11] -> [.12] in one /24. The kernel drops .11 (a
    secondary) with .10 (the primary): deleting .11 afterwards failed. Secondaries go first."""
    sandbox.veth("eth1", "eth1sw")
    args = {"name": "c1", "parent": "eth1", "mode": "bridge", "addresses": ["10.20.0.10/24", "10.20.0.11/24"]}
    sandbox.converge("macvlan_link", args)
    result = sandbox.converge("macvlan_link", dict(args, addresses=["10.20.0.12/24"]))
    assert result["actions"][:2] == ["ip addr del 10.20.0.11/24 dev c1", "ip addr del 10.20.0.10/24 dev c1"]
    assert sandbox.addresses("c1") == ["10.20.0.12/24"]


def test_lowering_a_parents_mtu_is_predicted_for_its_children(sandbox):
    """Found by the generative test: the kernel lowers a child's MTU with its parent's."""
    sandbox.veth("eth1", "eth1sw")
    doc = {"links": [{"kind": "macvlan", "name": "c3", "parent": "eth1", "mode": "passthru"},
                     {"kind": "veth", "name": "eth1", "peer": "eth1sw"}]}
    sandbox.run(MODULE, doc)
    doc["links"][1]["mtu"] = 1400
    result = sandbox.converge(MODULE, doc)
    assert result["layout"]["links[0]"]["mtu"] == 1400 and sandbox.links()["c3"]["mtu"] == 1400


def test_a_re_created_links_neighbors_and_routes_are_written_again(sandbox):
    """Found by the generative test: a neighbor entry on a link the plan re-creates (new parent)
    vanished with the old link, and the namespace step, planned from before, wrote nothing."""
    sandbox.veth("eth1", "eth1sw")
    sandbox.veth("eth2", "eth2sw")
    ns1 = sandbox.ns("ns1")
    doc = {"namespaces": [{"name": ns1, "neighbors": [{"address": "10.21.0.77", "lladdr": "02:00:00:00:77:15",
                                                       "dev": "c2"}],
                           "routes": [{"dest": "10.99.0.0/16", "dev": "c2"}]}],
           "links": [{"kind": "macvlan", "name": "c2", "parent": "eth1", "mode": "bridge", "netns": ns1,
                      "addresses": ["10.21.0.12/24"]}]}
    sandbox.converge(MODULE, doc, watch=(ns1,))
    doc["links"][0]["parent"] = "eth2"
    result = sandbox.converge(MODULE, doc, watch=(ns1,))
    assert "ip -n %s link del dev c2" % ns1 in result["actions"]
    assert "10.21.0.77 dev c2 lladdr 02:00:00:00:77:15 PERMANENT" in sandbox.ip("neigh", "show", netns=ns1)
    assert "10.99.0.0/16 dev c2" in sandbox.ip("route", "show", netns=ns1)
