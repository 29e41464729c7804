"""netns on the real kernel: create/delete, lo, sysctls, routes, neighbors, bad input."""

from __future__ import annotations

import json

MODULE = "netns"


def sysctl(sandbox, ns, key):
    return sandbox.exec("sysctl", "-n", key, netns=ns).stdout.strip()


def routes(sandbox, ns, family="-4"):
    return json.loads(sandbox.ip("-j", family, "route", "show", netns=ns) or "[]")


def test_create_brings_lo_up_and_delete_removes(sandbox):
    ns1 = sandbox.ns("ns1")
    result = sandbox.converge(MODULE, {"name": ns1}, watch=(ns1,))
    assert sandbox.netns_exists(ns1)
    assert "UP" in sandbox.links(ns1)["lo"]["flags"]
    assert result["actions"] == ["ip netns add %s" % ns1, "ip -n %s link set dev lo up" % ns1]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["loopback_up"] is True

    result = sandbox.converge(MODULE, {"name": ns1, "state": "absent"}, watch=(ns1,))
    assert not sandbox.netns_exists(ns1)
    assert result["actions"] == ["ip netns del %s" % ns1]


def test_delete_says_which_links_go_with_it(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    sandbox.veth("p0", "p0peer")
    sandbox.run("macvlan_link", {"name": "mac1", "parent": "p0", "netns": ns1, "mode": "bridge"})
    result = sandbox.converge(MODULE, {"name": ns1, "state": "absent"}, watch=(ns1,))
    assert result["diff"]["before"]["links"] == ["mac1 (macvlan)"]
    assert result["predicted"]["diff"]["before"]["links"] == ["mac1 (macvlan)"]
    assert result["diff"]["after_header"] == "netns %s (deleted with: mac1 (macvlan))" % ns1


def test_sysctls_are_set_inside_the_namespace_only(sandbox):
    ns1 = sandbox.ns("ns1")
    host_before = open("/proc/sys/net/ipv4/conf/all/arp_ignore").read()
    sysctls = {"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2,
               "net.ipv4.conf.all.rp_filter": 2}
    result = sandbox.converge(MODULE, {"name": ns1, "sysctls": sysctls}, watch=(ns1,))
    assert sysctl(sandbox, ns1, "net.ipv4.conf.all.arp_ignore") == "1"
    assert sysctl(sandbox, ns1, "net.ipv4.conf.all.arp_announce") == "2"
    assert sysctl(sandbox, ns1, "net.ipv4.conf.all.rp_filter") == "2"
    assert open("/proc/sys/net/ipv4/conf/all/arp_ignore").read() == host_before
    assert result["diff"]["after"]["sysctls"]["net.ipv4.conf.all.arp_ignore"] == "1"

    result = sandbox.converge(MODULE, {"name": ns1, "sysctls": {"net.ipv4.conf.all.arp_ignore": 2}})
    assert sysctl(sandbox, ns1, "net.ipv4.conf.all.arp_ignore") == "2"
    assert result["diff"]["before"]["sysctls"] == {"net.ipv4.conf.all.arp_ignore": "1"}


def test_per_interface_sysctl_with_a_dotted_name(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    sandbox.veth("eth0.100", "peer100", netns=ns1)
    sandbox.converge(MODULE, {"name": ns1, "sysctls": {"net/ipv4/conf/eth0.100/arp_ignore": 1}})
    assert sandbox.exec("cat", "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore", netns=ns1).stdout.strip() == "1"


def test_routes_dev_via_and_metric_then_exact_list(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    sandbox.veth("p0", "p0peer")
    sandbox.run("macvlan_link", {"name": "mac1", "parent": "p0", "netns": ns1, "mode": "bridge",
                                 "addresses": ["192.168.56.122/24", "fd00:56::122/64"]})
    wanted = [{"dest": "default", "via": "192.168.56.1"},
              {"dest": "10.99.0.0/16", "dev": "mac1", "metric": 50},
              {"dest": "fd00:99::/48", "via": "fd00:56::1"}]
    result = sandbox.converge(MODULE, {"name": ns1, "routes": wanted}, watch=(ns1,))
    v4 = {r["dst"]: r for r in routes(sandbox, ns1)}
    assert v4["default"]["gateway"] == "192.168.56.1" and v4["default"]["dev"] == "mac1"
    assert v4["10.99.0.0/16"]["metric"] == 50 and v4["10.99.0.0/16"]["dev"] == "mac1"
    v6 = {r["dst"]: r for r in routes(sandbox, ns1, "-6")}
    assert v6["fd00:99::/48"]["gateway"] == "fd00:56::1" and v6["fd00:99::/48"]["metric"] == 1024
    assert [r["dest"] for r in result["diff"]["after"]["routes"]] == ["10.99.0.0/16", "default", "fd00:99::/48"]

    # exact list: the prefix route goes, the default route's gateway changes in place
    result = sandbox.converge(MODULE, {"name": ns1, "routes": [{"dest": "default", "via": "192.168.56.254"}]})
    v4 = {r["dst"]: r for r in routes(sandbox, ns1)}
    assert v4["default"]["gateway"] == "192.168.56.254"
    assert "10.99.0.0/16" not in v4 and "192.168.56.0/24" in v4, "kernel routes stay"
    assert not any(r["dst"] == "fd00:99::/48" for r in routes(sandbox, ns1, "-6"))
    assert "ip -n %s route replace default via 192.168.56.254 metric 0" % ns1 in result["actions"]


def test_default_route_by_device_only(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    sandbox.veth("p0", "p0peer")
    sandbox.run("macvlan_link", {"name": "mac1", "parent": "p0", "netns": ns1, "addresses": ["10.5.0.2/24"]})
    sandbox.converge(MODULE, {"name": ns1, "routes": [{"dest": "default", "dev": "mac1"}]})
    default = [r for r in routes(sandbox, ns1) if r["dst"] == "default"][0]
    assert default["dev"] == "mac1" and "gateway" not in default


def test_static_neighbors_replace_failed_entries(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    sandbox.veth("p0", "p0peer")
    sandbox.run("macvlan_link", {"name": "macvl1", "parent": "p0", "netns": ns1, "addresses": ["192.168.9.2/24"]})
    # the usual pitfall: an entry already exists (here: stale, not permanent), `ip neigh add` says File exists
    sandbox.ip("neigh", "add", "192.168.9.3", "lladdr", "02:00:00:00:00:99", "dev", "macvl1", "nud", "stale",
               netns=ns1)
    entry = {"address": "192.168.9.3", "lladdr": "82:a3:b5:0f:fc:0c", "dev": "macvl1"}
    result = sandbox.converge(MODULE, {"name": ns1, "neighbors": [entry]}, watch=(ns1,))
    shown = sandbox.ip("neigh", "show", "dev", "macvl1", netns=ns1)
    assert "192.168.9.3 lladdr 82:a3:b5:0f:fc:0c PERMANENT" in shown
    assert result["diff"]["after"]["neighbors"] == [entry]

    sandbox.converge(MODULE, {"name": ns1, "neighbors": []})
    assert "PERMANENT" not in sandbox.ip("neigh", "show", "dev", "macvl1", netns=ns1)


def test_failure_rolls_back_a_namespace_it_created(sandbox):
    ns1 = sandbox.ns("ns1")
    # valid input, but the kernel refuses an IPv6 route once the namespace exists with IPv6 off
    result = sandbox.run(MODULE, {"name": ns1, "sysctls": {"net.ipv6.conf.all.disable_ipv6": 1},
                                  "routes": [{"dest": "fd00::/64", "dev": "lo"}]})
    assert result["failed"] is True and "route replace fd00::/64" in result["failed_action"], result
    assert "kernel refused" in result["msg"]
    assert result["rolled_back"] == ["ip netns exec %s sysctl -w net.ipv6.conf.all.disable_ipv6=1" % ns1,
                                     "ip -n %s link set dev lo up" % ns1, "ip netns add %s" % ns1]
    assert not sandbox.netns_exists(ns1)


def test_routes_the_kernel_would_refuse_are_refused_in_check_mode_too(sandbox, failing):
    """A gateway on no subnet of the namespace, or a route through a link that will be down."""
    ns1 = sandbox.ns("ns1")
    for check in (True, False):
        result = failing(MODULE, {"name": ns1, "routes": [{"dest": "10.0.0.0/8", "via": "10.9.9.9", "dev": "lo"}]},
                         check=check, watch=(ns1,))
        assert result["field"] == "routes[0].via" and "on no subnet of netns %s" % ns1 in result["msg"], result
        result = failing(MODULE, {"name": ns1, "loopback_up": False, "routes": [{"dest": "10.0.0.0/8", "dev": "lo"}]},
                         check=check, watch=(ns1,))
        assert result["field"] == "routes[0].dev" and "will be down" in result["msg"], result
    sandbox.converge(MODULE, {"name": ns1, "routes": [{"dest": "10.0.0.0/8", "dev": "lo"},
                                                      {"dest": "10.9.0.0/16", "via": "10.0.0.1"}]}, watch=(ns1,))


def test_bad_input(sandbox, failing):
    ns1 = sandbox.ns("ns1")
    sandbox.run(MODULE, {"name": ns1})
    cases = [
        ({"name": "bad/ns"}, "name"),
        ({"sysctls": {"kernel.hostname": "x"}}, "sysctls.kernel.hostname"),
        ({"sysctls": {"net.ipv4.conf.all.no_such_key": 1}}, "sysctls.net.ipv4.conf.all.no_such_key"),
        ({"routes": [{"dest": "10.0.0.1/8", "dev": "lo"}]}, "routes[0].dest"),
        ({"routes": [{"dest": "default"}]}, "routes[0]"),
        ({"routes": [{"dest": "default", "via": "fd00::1", "dev": "lo"}, {"dest": "10.0.0.0/8", "via": "x"}]},
         "routes[1].via"),
        ({"routes": [{"dest": "10.0.0.0/8", "dev": "nosuch"}]}, "routes[0].dev"),
        ({"routes": [{"dest": "::/0", "via": "10.0.0.1"}]}, "routes[0].via"),
        ({"neighbors": [{"address": "10.0.0.9", "lladdr": "nope", "dev": "lo"}]}, "neighbors[0].lladdr"),
        ({"neighbors": [{"address": "10.0.0.9", "lladdr": "02:00:00:00:00:01", "dev": "nosuch"}]},
         "neighbors[0].dev"),
    ]
    for change, field in cases:
        args = dict({"name": ns1}, **change)
        result = failing(MODULE, args, field=field, watch=(ns1,))
        assert field in result["msg"], result["msg"]
