"""A link's `routes` (exactly the static routes through that link) and the host-access shim
they make possible: the host cannot reach its own macvlan children through their parent
(the lab's bridge_lan), but it can through a bridge-mode macvlan of its own with /32 routes
(the lab's host_access_shim)."""

from __future__ import annotations

import pytest

MODULE = "macvlan_link"


@pytest.fixture
def host_with_child(sandbox):
    """The sandbox plays the host: eth1 (a veth, peer up) with 10.9.0.1/24, and a
    bridge-mode macvlan child 10.9.0.22 in its own namespace."""
    sandbox.veth("eth1", "eth1peer")
    sandbox.ip("addr", "add", "10.9.0.1/24", "dev", "eth1")
    child = sandbox.ns("c1")
    sandbox.run("netns", {"name": child})
    sandbox.run(MODULE, {"name": "mv1", "parent": "eth1", "mode": "bridge", "netns": child,
                         "addresses": ["10.9.0.22/24"]})
    return child


def routes_via(sandbox, dev):
    return sandbox.ip("route", "show", "dev", dev).split("\n")


def test_parent_cannot_reach_child_and_the_shim_fixes_it(sandbox, host_with_child):
    assert not sandbox.ping(sandbox.name, "10.9.0.22"), "macvlan children are unreachable from their parent"
    shim = {"name": "shim1", "parent": "eth1", "mode": "bridge", "addresses": ["10.9.0.250/32"],
            "routes": ["10.9.0.22/32"]}
    result = sandbox.converge(MODULE, shim)
    assert "ip route replace 10.9.0.22/32 dev shim1" in " ".join(result["actions"])
    assert result["link"]["routes"] == [{"family": 4, "dest": "10.9.0.22/32", "via": None, "dev": "shim1",
                                         "metric": 0}]
    assert any(line.startswith("10.9.0.22 proto static") for line in routes_via(sandbox, "shim1"))
    assert sandbox.ping(sandbox.name, "10.9.0.22", count=2)


def test_routes_are_an_exact_list_for_the_link_only(sandbox, host_with_child):
    # A static route through another link is none of this link's business.
    sandbox.ip("route", "add", "10.77.0.0/24", "dev", "eth1")
    base = {"name": "shim1", "parent": "eth1", "mode": "bridge", "addresses": ["10.9.0.250/32"]}
    sandbox.converge(MODULE, dict(base, routes=["10.9.0.22/32", {"dest": "10.9.5.0/24", "via": "10.9.0.22"}]))
    result = sandbox.converge(MODULE, dict(base, routes=["10.9.0.23/32"]))
    assert [(r["dest"], r["via"]) for r in result["diff"]["before"]["routes"]] == \
        [("10.9.0.22/32", None), ("10.9.5.0/24", "10.9.0.22")]
    assert [r["dest"] for r in result["diff"]["after"]["routes"]] == ["10.9.0.23/32"]
    shim_routes = " ".join(routes_via(sandbox, "shim1"))
    assert "10.9.0.23" in shim_routes and "10.9.0.22 " not in shim_routes and "10.9.5.0" not in shim_routes
    assert "10.77.0.0/24" in sandbox.ip("route", "show", "dev", "eth1")
    # Leaving `routes` out leaves them alone; [] removes them.
    assert sandbox.run(MODULE, base)["changed"] is False
    sandbox.converge(MODULE, dict(base, routes=[]))
    assert "10.9.0.23" not in sandbox.ip("route", "show")


def test_in_topology_a_new_shim_gets_its_routes_in_the_same_run(sandbox, host_with_child):
    layout = {"links": [{"kind": "macvlan", "name": "shim1", "parent": "eth1", "mode": "bridge",
                         "addresses": ["10.9.0.250/32"], "routes": ["10.9.0.22/32"]}]}
    sandbox.converge("topology", layout)
    assert sandbox.ping(sandbox.name, "10.9.0.22")


@pytest.mark.parametrize("routes, field, reason", [
    (["10.9.0.300/32"], "routes[0].dest", "10.9.0.300"),
    ([{"dest": "10.9.0.22/32", "dev": "eth1"}], "routes[0].dev", "through the link itself"),
    (["10.9.0.22/32", "10.9.0.22/32"], "routes", "listed twice"),
    ([42], "routes[0]", "expected a destination"),
])
def test_bad_routes_are_refused_naming_the_entry(sandbox, host_with_child, failing, routes, field, reason):
    result = failing(MODULE, {"name": "shim1", "parent": "eth1", "mode": "bridge", "routes": routes})
    assert result["field"] == field and reason in result["msg"], result


def test_routes_on_a_link_kept_down_are_refused(sandbox, host_with_child, failing):
    result = failing(MODULE, {"name": "shim1", "parent": "eth1", "admin_state": "down", "routes": ["10.9.0.22/32"]})
    assert result["field"] == "routes" and "admin_state" in result["msg"]
