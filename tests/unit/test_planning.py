"""Validation, planning and diff logic: pure functions over views, no kernel involved."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import (
    KERNEL_ASSIGNED,
    ApplyFailed,
    apply_and_verify,
    matches,
    roll_back,
    verify,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import (
    KernelError,
    ReadBackError,
    ValidationError,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import MacvlanLink, MacvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.namespace import Netns, NetnsSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op


def existing(**changes):
    view = {"name": "mv0", "kind": "macvlan", "netns": None, "parent": "eth1", "parent_netns": None,
            "mode": "bridge", "nopromisc": False, "source_macs": [], "macaddress": "02:00:00:00:00:01",
            "mtu": 1500, "admin_state": "up", "promisc": False, "addresses": ["10.0.0.1/24"]}
    view.update(changes)
    return view


def plan(before=None, **params):
    resource = MacvlanLink(MacvlanSpec.from_params(dict({"name": "mv0", "parent": "eth1"}, **params)))
    return [op.render() for op in resource.plan(before)], resource


class TestValidation:
    @pytest.mark.parametrize("name", ["a" * 16, "", "x/y", "x y", "x:y", ".."])
    def test_bad_interface_names(self, name):
        with pytest.raises(ValidationError) as err:
            validate.interface_name("name", name)
        assert err.value.field == "name"

    def test_fifteen_bytes_is_the_limit(self):
        assert validate.interface_name("name", "a" * 15) == "a" * 15
        with pytest.raises(ValidationError, match="16 bytes"):
            validate.interface_name("name", "é" * 8)

    def test_mac_normalised(self):
        assert validate.mac_address("m", "02-AA-bb-00-00-01") == "02:aa:bb:00:00:01"

    def test_addresses_normalised_and_sorted(self):
        assert validate.address_list("a", ["fd00::1/64", "10.0.0.9/24", "10.0.0.10/24"]) == \
            ["10.0.0.9/24", "10.0.0.10/24", "fd00::1/64"]

    def test_duplicate_address(self):
        with pytest.raises(ValidationError, match=r"addresses\[1\]"):
            validate.address_list("addresses", ["10.0.0.1/24", "10.0.0.1/24"])

    def test_field_path_prefix(self):
        with pytest.raises(ValidationError) as err:
            MacvlanSpec.from_params({"name": "mv0", "parent": "eth1", "mtu": 10}, path="links[3].")
        assert err.value.field == "links[3].mtu"

    def test_absent_needs_no_parent(self):
        assert MacvlanSpec.from_params({"name": "mv0", "state": "absent"}).parent is None

    def test_sysctl_outside_net_refused(self):
        with pytest.raises(ValidationError, match="per-namespace"):
            NetnsSpec.from_params({"name": "ns1", "sysctls": {"vm.swappiness": 1}})

    def test_ipv6_route_metric_defaults_like_the_kernel(self):
        spec = NetnsSpec.from_params({"name": "ns1", "routes": [{"dest": "::/0", "dev": "mv0"}]})
        assert spec.routes[0]["metric"] == 1024 and spec.routes[0]["family"] == 6


class TestMacvlanPlan:
    def test_create(self):
        actions = plan(mode="bridge", netns="ns1", addresses=["10.0.0.2/24"])[0]
        assert actions == ["ip link add link eth1 name mv0 netns ns1 type macvlan mode bridge",
                           "ip -n ns1 link set dev mv0 up", "ip -n ns1 addr add 10.0.0.2/24 dev mv0"]

    def test_no_change(self):
        actions = plan(existing(), mode="bridge", macaddress="02:00:00:00:00:01", addresses=["10.0.0.1/24"])[0]
        assert actions == []

    def test_mode_change_in_place(self):
        actions = plan(existing(), mode="private")[0]
        assert actions == ["ip link set dev mv0 type macvlan mode private"]

    def test_passthru_switch_recreates(self):
        actions, resource = plan(existing(), mode="passthru")
        assert actions[0] == "ip link del dev mv0" and actions[1].startswith("ip link add")
        assert resource.needs_recreate(existing())

    def test_going_down_re_adds_ipv6(self):
        before = existing(addresses=["10.0.0.1/24", "fd00::1/64"])
        actions = plan(before, mode="bridge", admin_state="down", addresses=["10.0.0.1/24", "fd00::1/64"])[0]
        assert actions == ["ip link set dev mv0 down", "ip addr add fd00::1/64 dev mv0"]

    def test_predict_keeps_unmanaged_values(self):
        resource = plan(mode="bridge")[1]
        predicted = resource.predict(existing(mtu=1400))
        assert predicted["mtu"] == 1400 and predicted["addresses"] == ["10.0.0.1/24"]
        assert resource.predict(None)["macaddress"] == KERNEL_ASSIGNED

    def test_delete_undo_recreates_the_same_link(self):
        resource = MacvlanLink(MacvlanSpec.from_params({"name": "mv0", "state": "absent"}))
        [delete] = resource.plan(existing())
        assert [op.render() for op in delete.undo] == [
            "ip link add link eth1 name mv0 type macvlan mode bridge address 02:00:00:00:00:01 mtu 1500",
            "ip link set dev mv0 up", "ip addr add 10.0.0.1/24 dev mv0"]


class TestNetnsPlan:
    def test_exact_neighbor_list(self):
        spec = NetnsSpec.from_params({"name": "ns1", "neighbors": [
            {"address": "192.168.9.3", "lladdr": "82:a3:b5:0f:fc:0c", "dev": "macvl1"}]})
        before = {"name": "ns1", "loopback_up": True, "links": [], "neighbors": [
            {"address": "192.168.9.4", "lladdr": "02:00:00:00:00:04", "dev": "macvl1"}]}
        actions = [op.render() for op in Netns(spec).plan(before)]
        assert actions == ["ip -n ns1 neigh del 192.168.9.4 dev macvl1",
                           "ip -n ns1 neigh replace 192.168.9.3 lladdr 82:a3:b5:0f:fc:0c nud permanent dev macvl1"]

    def test_route_without_dev_is_satisfied_by_kernel_choice(self):
        spec = NetnsSpec.from_params({"name": "ns1", "routes": [{"dest": "default", "via": "10.0.0.1"}]})
        before = {"name": "ns1", "loopback_up": True, "links": [], "routes": [
            {"family": 4, "dest": "default", "via": "10.0.0.1", "dev": "mv0", "metric": 0}]}
        assert Netns(spec).plan(before) == []
        assert Netns(spec).predict(before)["routes"][0]["dev"] == "mv0"


class RecordingKernel:
    """Records applied operations; fails on the verbs it is told to (engine ordering only)."""

    def __init__(self, fail_on=()):
        self.applied = []
        self.fail_on = fail_on

    def apply(self, op):
        if op.verb in self.fail_on:
            error = KernelError(op.render(), 17)
            error.failed_op = op
            raise error
        self.applied.append(op.render())

    def apply_all(self, ops, done):
        for op in ops:
            self.apply(op)
            done.append(op)

    def delete_links(self, deletions):
        if "bulk" in self.fail_on:
            raise KernelError("bulk", 16)
        self.applied.append("bulk delete: " + ", ".join(op.target for op in deletions))


class TestEngine:
    def test_matches_treats_kernel_assigned_as_wildcard(self):
        assert matches({"mac": KERNEL_ASSIGNED, "mtu": 1500}, {"mac": "02:00:00:00:00:01", "mtu": 1500, "x": 1})
        assert not matches([1, 2], [1])

    def test_verify_names_the_field(self):
        with pytest.raises(ReadBackError, match="mtu reads back as 1500 after writing 9000"):
            verify("macvlan mv0", {"mtu": 9000}, {"mtu": 1500})

    def test_rollback_runs_undos_newest_first(self):
        done = [Op("addr_add", None, "a", {"address": "10.0.0.1/24"},
                   undo=[Op("addr_del", None, "a", {"address": "10.0.0.1/24"})]),
                Op("link_set", None, "a", {"mtu": 1400}, undo=[Op("link_set", None, "a", {"mtu": 1500})])]
        kernel = RecordingKernel()
        undone, errors = roll_back(kernel, done)
        assert kernel.applied == ["ip link set dev a mtu 1500", "ip addr del 10.0.0.1/24 dev a"]
        assert errors == [] and len(undone) == 2

    def test_rollback_deletes_created_links_in_bulk_in_order(self):
        def created(name):
            return Op("link_add", None, name, {"kind": "bridge"}, undo=[Op("link_del", None, name)])
        done = [created("b1"), created("b2"), Op("addr_add", None, "b2", {"address": "10.0.0.1/24"}),
                Op("link_set", None, "b2", {"mtu": 1400}, undo=[Op("link_set", None, "b2", {"mtu": 1500})]),
                created("b3"), Op("ns_del", None, "old", irreversible=True)]
        kernel = RecordingKernel()
        undone, errors = roll_back(kernel, done)
        assert kernel.applied == ["bulk delete: b3", "ip link set dev b2 mtu 1500", "bulk delete: b2, b1"]
        assert errors == ["ip netns del old (cannot be undone)"] and len(undone) == 5

        kernel = RecordingKernel(fail_on=("bulk", "link_del"))
        undone, errors = roll_back(kernel, [created("b1"), created("b2")])
        assert undone == [] and [e.split(" (")[0] for e in errors] == ["ip link add name b2 type bridge",
                                                                       "ip link add name b1 type bridge"]

    def test_failure_reports_failed_step_and_undo(self):
        class Resource:
            label = "test"

            def read(self, kernel):
                return {}

        ops = [Op("ns_add", None, "ns1", undo=[Op("ns_del", None, "ns1")]),
               Op("route_replace", "ns1", "default", {"family": 4, "dest": "default", "dest_text": "default",
                                                      "via": "10.0.0.1", "metric": 0})]
        kernel = RecordingKernel(fail_on=("route_replace",))
        with pytest.raises(ApplyFailed) as err:
            apply_and_verify(Resource(), kernel, ops, {})
        assert err.value.failed_action == "ip -n ns1 route replace default via 10.0.0.1 metric 0"
        assert err.value.rolled_back == ["ip netns add ns1"]
        assert kernel.applied == ["ip netns add ns1", "ip netns del ns1"]


class TestOtherKinds:
    def test_sysctl_path_with_dotted_interface_names(self):
        from ansible_collections.linuxnet.macvlan.plugins.module_utils.sysctls import sysctl_path
        assert sysctl_path("net.ipv4.conf.eth0.100.200.rp_filter") == "/proc/sys/net/ipv4/conf/eth0.100.200/rp_filter"
        assert sysctl_path("net/ipv6/conf/eth0.7/accept_ra") == "/proc/sys/net/ipv6/conf/eth0.7/accept_ra"
        assert sysctl_path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward"

    def test_vlan_qos_map_exact_and_flags_in_place(self):
        from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanLink, VlanSpec
        before = {"name": "eth0.5", "kind": "vlan", "netns": None, "parent": "eth0", "parent_netns": None,
                  "vlan_id": 5, "protocol": "802.1Q", "reorder_hdr": True, "gvrp": False, "mvrp": False,
                  "loose_binding": False, "ingress_qos_map": {}, "egress_qos_map": {0: 1, 6: 6},
                  "macaddress": "02:00:00:00:00:05", "mtu": 1500, "admin_state": "up", "promisc": False,
                  "addresses": []}
        spec = VlanSpec.from_params({"name": "eth0.5", "parent": "eth0", "vlan_id": 5, "gvrp": True,
                                     "egress_qos_map": {6: 5}})
        ops = VlanLink(spec).plan(before)
        assert [op.render() for op in ops] == [
            "ip link set dev eth0.5 type vlan gvrp on",
            "ip link set dev eth0.5 type vlan egress-qos-map 0:0 6:5"]
        assert ops[1].undo[0].render() == "ip link set dev eth0.5 type vlan egress-qos-map 0:1 6:6"

    def test_vlan_id_out_of_range(self):
        from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanSpec
        with pytest.raises(ValidationError, match="vlan_id: 4095 is out of range 1-4094"):
            VlanSpec.from_params({"name": "x", "parent": "eth0", "vlan_id": 4095})

    def test_bridge_port_only_changes_what_differs(self):
        from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePort, BridgePortSpec
        before = {"name": "p", "netns": None, "bridge": "br0", "hairpin": False, "isolated": False,
                  "learning": True, "unicast_flood": True, "multicast_flood": True, "cost": 2, "priority": 32}
        resource = BridgePort(BridgePortSpec.from_params({"name": "p", "bridge": "br0", "hairpin": True,
                                                          "cost": 2}))
        assert [op.render() for op in resource.plan(before)] == ["bridge link set dev p hairpin on"]
        moved = BridgePort(BridgePortSpec.from_params({"name": "p", "bridge": "br1"}))
        assert [op.render() for op in moved.plan(before)] == ["ip link set dev p master br1"]


class TestBooleans:
    def test_templated_false_is_false_everywhere(self):
        spec = MacvlanSpec.from_params({"name": "m", "parent": "eth1", "promisc": "False", "mode": "passthru",
                                        "nopromisc": "no"})
        assert spec.promisc is False and spec.nopromisc is False
        assert NetnsSpec.from_params({"name": "ns1", "loopback_up": "off"}).loopback_up is False

    def test_not_a_boolean_names_its_path(self):
        with pytest.raises(ValidationError) as err:
            MacvlanSpec.from_params({"name": "m", "parent": "eth1", "promisc": "maybe"}, path="links[2].")
        assert err.value.field == "links[2].promisc"
