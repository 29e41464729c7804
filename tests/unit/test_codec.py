"""The collection's netlink codec, without a kernel: encode, decode, compare.

For every link kind and every option, Hypothesis draws a spec; the kind's planner turns it into
operations and encoders.RTNL_ENCODERS turns those into request bytes, the very bytes the batcher
sends. Each request is then decoded twice and compared with the spec:
- by the collection's own decoders (rtnl.parse_link, linkinfo, linkstate.link_state: the path
  every dump takes, so what is written reads back as what was meant);
- independently, by pyroute2's message classes (pyroute2.netlink.rtnl.ifinfmsg), whose attribute
  tables were written apart from ours: a wrong number, width, byte order or nesting shows here.
The read path is also checked the other way round: dumps as the kernel writes them (built with
pyroute2) decode to the views the modules compare.

The only stand-in is `Lookups`, which answers the encoders' name -> index and namespace -> file
descriptor questions with fixed numbers; nothing here pretends to be the kernel."""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ifinfmsg.plugins.vlan import flags as PYROUTE2_VLAN_FLAGS

from ansible_collections.linuxnet.macvlan.plugins.module_utils import linkinfo, rtnl
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import FLAGS as PORT_FLAGS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePort, BridgePortSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.encoders import RTNL_ENCODERS, Request
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState, link_state
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import KINDS

EXAMPLES = settings(max_examples=150, derandomize=True, deadline=None)

# What the kernel's uapi headers say, written down here apart from the code under test.
ETHERTYPES = {"802.1Q": 0x8100, "802.1ad": 0x88A8}
IPVLAN_MODE_NUMBERS = {"l2": 0, "l3": 1, "l3s": 2}
IPVLAN_FLAG_NUMBERS = {"bridge": 0, "private": 1, "vepa": 2}  # IFLA_IPVLAN_FLAGS: pyroute2 has no name for it
IFLA_IPVLAN_FLAGS = 2
PORT_ATTRIBUTES = {"hairpin": "IFLA_BRPORT_MODE", "learning": "IFLA_BRPORT_LEARNING",
                   "unicast_flood": "IFLA_BRPORT_UNICAST_FLOOD", "multicast_flood": "IFLA_BRPORT_MCAST_FLOOD",
                   "isolated": "IFLA_BRPORT_ISOLATED", "cost": "IFLA_BRPORT_COST", "priority": "IFLA_BRPORT_PRIORITY"}


class Lookups:
    """The encoders' questions to kernel.Kernel, answered with fixed numbers: every link has an
    index (derived from its name), every namespace a file descriptor (derived from its name)."""

    class Space:
        def __init__(self, name: Optional[str]) -> None:
            self.name = name
            self.fd = fd_of(name)

        def index_of(self, name: str, stale: Any = frozenset()) -> Optional[int]:
            return None if (self.name, name) in stale else index_of(name)

    def ns(self, name: Optional[str]) -> "Lookups.Space":
        return Lookups.Space(name)

    def index(self, netns: Optional[str], name: str, stale: Any = frozenset()) -> int:
        return index_of(name)


def index_of(name: str) -> int:
    return 1000 + sum(ord(char) for char in name)


def fd_of(netns: Optional[str]) -> int:
    return 3 if netns is None else 10 + len(netns)


def encode(op: Op) -> List[Request]:
    return RTNL_ENCODERS[op.verb](Lookups(), op, set())


# -- the two decoders --------------------------------------------------------------
def ours(request: Request) -> Dict[str, Any]:
    """A request as the collection's read path decodes it: the raw link and its LinkState (whose
    `data` and `port` are the kind's and a port's attributes by linkinfo's names)."""
    body = request.body
    raw = rtnl.parse_link(body, 0, len(body))
    extra = rtnl.attrs_of(body, rtnl.IFINFOMSG.size, len(body), frozenset((rtnl.IFLA_NET_NS_FD,)))
    state = link_state(raw)
    return {"raw": raw, "state": state, "data": state.data, "netns_fd": rtnl.u32_of(extra.get(rtnl.IFLA_NET_NS_FD))}


def view_of(kind: str, state: LinkState) -> Dict[str, Any]:
    """What the kind's module reports for the decoded link (its kind_view, as `read` calls it)."""
    entry = KINDS[kind]
    return entry.resource_class(entry.blank_spec(state.name, None)).kind_view(state)


def theirs(request: Request) -> Any:
    """The same request decoded by pyroute2 (a netlink header first, as on the wire)."""
    message = ifinfmsg(rtnl.HEADER.pack(rtnl.HEADER.size + len(request.body), request.kind, request.flags, 0, 0)
                       + request.body)
    message.decode()
    return message


def their_data(message: Any) -> Any:
    return message.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")


def their_raw(nla: Any, number: int) -> Optional[bytes]:
    """An attribute pyroute2 has no name for, from the bytes it kept."""
    data = bytes(nla.data[nla.offset:nla.offset + nla.length])
    return rtnl.attrs_of(data, 4, len(data)).get(number)


# -- specs ------------------------------------------------------------------------
NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=15).filter(lambda n: n not in (".", ".."))
NETNS = st.none() | st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20).filter(
    lambda n: n not in (".", ".."))
MAC = st.binary(min_size=6, max_size=6).map(lambda b: bytes([b[0] & 0xFE]) + b[1:]).filter(
    any).map(lambda b: ":".join("%02x" % x for x in b))


def common(parent: bool) -> st.SearchStrategy:
    fields = {"name": NAME, "netns": NETNS, "macaddress": st.none() | MAC, "mtu": st.none() | st.integers(68, 65535),
              "admin_state": st.sampled_from(["up", "down"])}
    if not parent:
        return st.fixed_dictionaries(fields)
    fields.update(parent=NAME, parent_netns=NETNS)
    return st.fixed_dictionaries(fields).map(own_parent)


def own_parent(params: Dict[str, Any]) -> Dict[str, Any]:
    if (params["parent"], params["parent_netns"]) == (params["name"], params["netns"]):
        params["parent"] = "up0" if params["name"] != "up0" else "up1"  # a link is not its own parent
    return params


@st.composite
def macvlan_params(draw: Any) -> Dict[str, Any]:
    params = draw(common(parent=True))
    params["kind"] = draw(st.sampled_from(["macvlan", "macvtap"]))
    params["mode"] = draw(st.sampled_from(["private", "vepa", "bridge", "passthru", "source"]))
    if params["mode"] == "passthru":
        params["nopromisc"] = draw(st.none() | st.booleans())
    if params["mode"] == "source":
        params["source_macs"] = draw(st.lists(MAC, unique=True, max_size=4))
    return params


QOS_INGRESS = st.dictionaries(st.integers(0, 7), st.integers(0, 2 ** 32 - 1), max_size=8)
QOS_EGRESS = st.dictionaries(st.integers(0, 2 ** 32 - 1), st.integers(0, 7), max_size=6)


@st.composite
def vlan_params(draw: Any) -> Dict[str, Any]:
    params = draw(common(parent=True))
    params.update(vlan_id=draw(st.integers(1, 4094)), protocol=draw(st.sampled_from(["802.1Q", "802.1ad"])))
    for flag in ("reorder_hdr", "gvrp", "mvrp", "loose_binding"):
        params[flag] = draw(st.none() | st.booleans())
    params["ingress_qos_map"] = draw(st.none() | QOS_INGRESS)
    params["egress_qos_map"] = draw(st.none() | QOS_EGRESS)
    return params


@st.composite
def ipvlan_params(draw: Any) -> Dict[str, Any]:
    params = draw(common(parent=True))
    params.update(mode=draw(st.sampled_from(["l2", "l3", "l3s"])), flag=draw(st.sampled_from(["bridge", "private", "vepa"])))
    params["macaddress"] = None  # an ipvlan has its parent's MAC
    return params


@st.composite
def bridge_params(draw: Any) -> Dict[str, Any]:
    return dict(draw(common(parent=False)), stp=draw(st.none() | st.booleans()))


@st.composite
def veth_params(draw: Any) -> Dict[str, Any]:
    params = draw(common(parent=False))
    params.update(peer=draw(NAME), peer_netns=draw(NETNS))
    if (params["peer"], params["peer_netns"]) == (params["name"], params["netns"]):
        params["peer"] = "peer" if params["name"] != "peer" else "peer2"  # a veth is not its own peer
    return params


PARAMS = {"macvlan": macvlan_params(), "vlan": vlan_params(), "ipvlan": ipvlan_params(),
          "bridge": bridge_params(), "veth": veth_params(), "dummy": common(parent=False)}


def resource(params: Dict[str, Any]) -> Any:
    kind = KINDS[params.get("kind") or params["_kind"]]
    fields = {key: value for key, value in params.items() if key != "_kind" and value is not None}
    return kind.resource_class(kind.spec_class.from_params(fields))


def kind_params() -> st.SearchStrategy:
    return st.one_of(*[strategy.map(lambda p, kind=kind: dict(p, _kind=p.get("kind", kind)))
                       for kind, strategy in PARAMS.items()])


# -- creation: every kind, every option ------------------------------------------
@EXAMPLES
@given(kind_params())
def test_a_created_link_decodes_to_its_spec_both_ways(params):
    link = resource(params)
    spec = link.spec
    create = link.plan(None)[0]
    assert create.verb == "link_add"
    (request,) = encode(create)
    assert request.kind == rtnl.RTM_NEWLINK and request.flags == rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
    mine, pyroute2 = ours(request), theirs(request)
    state: LinkState = mine["state"]

    # what every kind shares
    assert state.name == spec.name == pyroute2.get_attr("IFLA_IFNAME")
    assert state.kind == link.kind == pyroute2.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_KIND")
    assert state.mac == spec.macaddress == pyroute2.get_attr("IFLA_ADDRESS")
    assert state.mtu == (spec.mtu or 0) and pyroute2.get_attr("IFLA_MTU") == spec.mtu
    parent = index_of(spec.parent) if link.HAS_PARENT else None
    assert state.parent_index == parent == pyroute2.get_attr("IFLA_LINK")
    moved = spec.netns != getattr(spec, "parent_netns", None)
    netns_fd = fd_of(spec.netns) if moved else None
    assert mine["netns_fd"] == netns_fd == pyroute2.get_attr("IFLA_NET_NS_FD")
    assert state.group == 0 and pyroute2.get_attr("IFLA_GROUP") is None  # no owner: no group
    CHECK_CREATED[params["_kind"]](spec, view_of(link.kind, state), mine, pyroute2)


def created_macvlan(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    data, prefix = their_data(pyroute2), "IFLA_%s_" % spec.kind.upper()  # pyroute2: IFLA_MACVTAP_* for a macvtap
    assert view["mode"] == spec.mode == data.get_attr(prefix + "MODE")
    nopromisc = bool(spec.nopromisc)
    assert view["nopromisc"] is nopromisc
    assert data.get_attr(prefix + "FLAGS") == ("nopromisc" if nopromisc else None)


def created_vlan(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    data = their_data(pyroute2)
    assert view["vlan_id"] == spec.vlan_id == data.get_attr("IFLA_VLAN_ID")
    assert view["protocol"] == spec.protocol and data.get_attr("IFLA_VLAN_PROTOCOL") == ETHERTYPES[spec.protocol]
    flags = data.get_attr("IFLA_VLAN_FLAGS")
    for flag in ("reorder_hdr", "gvrp", "mvrp", "loose_binding"):
        wanted = bool(getattr(spec, flag))  # reorder_hdr defaults to on, the others to off
        assert view[flag] == wanted
        bit = PYROUTE2_VLAN_FLAGS[flag]
        assert flags["mask"] & bit and bool(flags["flags"] & bit) == wanted
    for name, attribute in (("ingress_qos_map", "IFLA_VLAN_INGRESS_QOS"), ("egress_qos_map", "IFLA_VLAN_EGRESS_QOS")):
        wanted = getattr(spec, name) or {}
        assert view[name] == wanted
        found = data.get_attr(attribute)
        pairs = {} if found is None else {m["from"]: m["to"] for m in found.get_attrs("IFLA_VLAN_QOS_MAPPING")}
        assert pairs == wanted


def created_ipvlan(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    data = their_data(pyroute2)
    assert (view["mode"], view["flag"]) == (spec.mode, spec.flag)
    assert data.get_attr("IFLA_IPVLAN_MODE") == IPVLAN_MODE_NUMBERS[spec.mode]
    assert struct.unpack("=H", their_raw(data, IFLA_IPVLAN_FLAGS))[0] == IPVLAN_FLAG_NUMBERS[spec.flag]


def created_bridge(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    assert view["stp"] is bool(spec.stp)
    info = pyroute2.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    assert (info.get_attr("IFLA_BR_STP_STATE") if info is not None else 0) == int(bool(spec.stp))


def created_veth(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    assert mine["data"] == {"peer": spec.peer, "peer_netns_fd": fd_of(spec.peer_netns)}
    peer = their_data(pyroute2).get_attr("VETH_INFO_PEER")
    assert peer.get_attr("IFLA_IFNAME") == spec.peer and peer.get_attr("IFLA_NET_NS_FD") == fd_of(spec.peer_netns)


def created_dummy(spec: Any, view: Dict[str, Any], mine: Dict[str, Any], pyroute2: Any) -> None:
    assert mine["raw"]["data"] == {} and pyroute2.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA") is None


CHECK_CREATED = {"macvlan": created_macvlan, "macvtap": created_macvlan, "vlan": created_vlan,
                 "ipvlan": created_ipvlan, "bridge": created_bridge, "veth": created_veth, "dummy": created_dummy}


# -- changes in place: the set requests say the new values, their undo the old ones -------------------
def before_view(link: Any) -> Dict[str, Any]:
    """The link as read back after its creation (what `read` reports), from its own prediction."""
    view = link.predict(None)
    view.update(macaddress="02:00:00:00:00:99", mtu=1500, addresses=[])
    if view.get("tap_device") == KERNEL_ASSIGNED:
        view["tap_device"] = "/dev/tap7"
    return view


def set_requests(ops: List[Op]) -> List[Op]:
    return [op for op in ops if op.verb == "link_set" and "linkinfo" in op.args]


def kind_attributes(op: Op) -> Dict[str, Any]:
    (request,) = encode(op)
    mine = ours(request)
    assert mine["state"].kind == op.args["kind"] == theirs(request).get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_KIND")
    return mine["data"]


# What a change of each kind keeps (other values re-create the link, which the creation test covers).
IDENTITY = ("name", "netns", "parent", "parent_netns", "kind", "vlan_id", "protocol")


@EXAMPLES
@given(st.sampled_from(["macvlan", "vlan", "ipvlan", "bridge"]).flatmap(
    lambda kind: st.tuples(st.just(kind), PARAMS[kind], PARAMS[kind])))
def test_a_change_in_place_sends_the_new_values_and_its_undo_the_old(case):
    kind, old, new = case
    new = dict(new, **{key: old[key] for key in IDENTITY if key in old})
    for params in (old, new):
        params["_kind"] = params.get("kind") or kind
    link, before = resource(new), before_view(resource(old))
    if link.needs_recreate(before):
        return  # passthru set or cleared: a deletion and a link_add
    want = link.predict(before)
    for op in set_requests(link.plan(before)):
        sent = kind_attributes(op)
        assert sent and sent == expected(sent, want, before), op.render()
        for undo in set_requests(op.undo):
            assert kind_attributes(undo) == expected(kind_attributes(undo), before, want), undo.render()


def expected(sent: Dict[str, Any], view: Dict[str, Any], other: Dict[str, Any]) -> Dict[str, Any]:
    """The view's values for the keys a request carries; a QoS map goes whole, with a 0 target
    for each priority the other side maps and this one does not (the kernel's "no mapping")."""
    values = {}
    for key in sent:
        if key.endswith("_qos_map"):
            values[key] = {**{source: 0 for source in other[key] if source not in view[key]}, **view[key]}
        else:
            values[key] = view[key]
    return values


# -- bridge ports and source MACs -----------------------------------------------------------------
PORT_SETTINGS = st.fixed_dictionaries({}, optional={
    **{flag: st.booleans() for flag in PORT_FLAGS}, "cost": st.integers(1, 65535), "priority": st.integers(0, 63)})


@EXAMPLES
@given(NAME, NETNS, PORT_SETTINGS)
def test_bridge_port_settings_decode_to_what_was_asked(name, netns, settings_):
    port = BridgePort(BridgePortSpec.from_params(dict(settings_, name=name, netns=netns, bridge="br0")))
    before = {"name": name, "netns": netns, "bridge": "br0", "hairpin": False, "isolated": False, "learning": True,
              "unicast_flood": True, "multicast_flood": True, "cost": 100, "priority": 32}
    ops = [op for op in port.plan(before) if op.verb == "brport_set"]
    changed = {key: value for key, value in settings_.items() if before[key] != value}
    if not changed:
        assert not ops
        return
    (op,) = ops
    (request,) = encode(op)
    mine, pyroute2 = ours(request), theirs(request)
    assert mine["state"].index == index_of(name) and mine["raw"]["slave_kind"] == "bridge"
    assert mine["state"].port == changed
    info = pyroute2.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_SLAVE_KIND") == "bridge"
    slave = info.get_attr("IFLA_INFO_SLAVE_DATA")
    assert {option: slave.get_attr(PORT_ATTRIBUTES[option]) for option in changed} == \
        {option: int(value) for option, value in changed.items()}
    assert len(slave["attrs"]) == len(changed)


@EXAMPLES
@given(st.sampled_from(["macvlan", "macvtap"]), st.sampled_from(["add", "del", "flush"]),
       st.lists(MAC, unique=True, min_size=1, max_size=5))
def test_source_mac_changes_go_one_mac_per_request(kind, action, macs):
    op = Op("source_macs", "ns1", "mv0", {"kind": kind, "action": action, "macs": [] if action == "flush" else macs})
    requests = encode(op)
    sent = []
    for request in requests:
        mine, pyroute2 = ours(request), theirs(request)
        data = their_data(pyroute2)
        assert mine["state"].kind == kind and mine["data"].get("macaddr_mode") == action
        prefix = "IFLA_%s_" % kind.upper()
        assert data.get_attr(prefix + "MACADDR_MODE") == action
        assert mine["data"].get("macaddr") == data.get_attr(prefix + "MACADDR")
        sent.append(mine["data"].get("macaddr"))
    assert sent == ([None] if action == "flush" else macs)


# -- the kind table itself ------------------------------------------------------------------------
def test_every_registered_kind_has_a_netlink_table():
    assert set(KINDS) <= set(linkinfo.KINDS)


@pytest.mark.parametrize("kind, attrs", [("macvlan", {"macvlan_mode": "vepa"}), ("vlan", {"vlan_flags": 1}),
                                         ("bridge", {"br_stp_state": 1}), ("dummy", {"mode": "l2"})])
def test_a_name_the_table_does_not_know_is_an_error_not_dropped(kind, attrs):
    # pyroute2 drops unknown keyword arguments silently; the codec refuses them.
    with pytest.raises(EngineError, match="no netlink encoding for the %s attribute '%s'" % (kind, list(attrs)[0])):
        linkinfo.encode(kind, attrs)


# -- the read path: dumps as the kernel writes them ------------------------------------------------
def dumped(kind: str, data: List[Any], slave: Optional[List[Any]] = None) -> LinkState:
    """A link as a dump carries it (every attribute the kernel sends for the kind, not only the
    collection's), built with pyroute2 and decoded by the collection's read path."""
    message = ifinfmsg()
    message["index"] = 7
    info = [("IFLA_INFO_KIND", kind), ("IFLA_INFO_DATA", {"attrs": data})]
    if slave is not None:
        info += [("IFLA_INFO_SLAVE_KIND", "bridge"), ("IFLA_INFO_SLAVE_DATA", {"attrs": slave})]
    message["attrs"] = [("IFLA_IFNAME", "l0"), ("IFLA_MTU", 1500), ("IFLA_LINKINFO", {"attrs": info})]
    message.encode()
    body = bytes(message.data)[rtnl.HEADER.size:]
    return link_state(rtnl.parse_link(body, 0, len(body)))


@EXAMPLES
@given(st.sampled_from([1, 2, 4, 8, 16]), st.sampled_from([0, 1, 2, 3]), st.lists(MAC, unique=True, max_size=5))
def test_a_dumped_macvlan_reads_as_mode_flags_and_source_list(mode, flags, macs):
    state = dumped("macvlan", [("IFLA_MACVLAN_MODE", mode), ("IFLA_MACVLAN_FLAGS", flags),
                               ("IFLA_MACVLAN_MACADDR_COUNT", len(macs)),
                               ("IFLA_MACVLAN_MACADDR_DATA", {"attrs": [("IFLA_MACVLAN_MACADDR", m) for m in macs]})])
    assert view_of("macvlan", state) == {
        "mode": {1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}[mode],
        "nopromisc": bool(flags & 1),  # MACVLAN_FLAG_NOPROMISC; nodst (2) is not the collection's
        "source_macs": sorted(macs)}


@EXAMPLES
@given(st.integers(1, 4094), st.sampled_from(list(ETHERTYPES)), st.integers(0, 0x1F), QOS_INGRESS, QOS_EGRESS)
def test_a_dumped_vlan_reads_as_its_view(vlan_id, protocol, flags, ingress, egress):
    def qos(mapping: Dict[int, int]) -> Dict[str, Any]:
        return {"attrs": [("IFLA_VLAN_QOS_MAPPING", {"from": key, "to": value}) for key, value in mapping.items()]}
    state = dumped("vlan", [("IFLA_VLAN_ID", vlan_id), ("IFLA_VLAN_PROTOCOL", ETHERTYPES[protocol]),
                            ("IFLA_VLAN_FLAGS", {"flags": flags, "mask": 0xFFFFFFFF}),
                            ("IFLA_VLAN_INGRESS_QOS", qos(ingress)), ("IFLA_VLAN_EGRESS_QOS", qos(egress))])
    assert view_of("vlan", state) == {
        "vlan_id": vlan_id, "protocol": protocol,
        **{name: bool(flags & PYROUTE2_VLAN_FLAGS[name]) for name in ("reorder_hdr", "gvrp", "loose_binding", "mvrp")},
        "ingress_qos_map": {k: v for k, v in ingress.items() if v}, "egress_qos_map": {k: v for k, v in egress.items() if v},
    }


@EXAMPLES
@given(st.sampled_from([0, 1, 2]), PORT_SETTINGS)
def test_a_dumped_bridge_and_port_read_as_their_views(stp, settings_):
    slave = [(PORT_ATTRIBUTES[option], int(value)) for option, value in settings_.items()]
    slave += [("IFLA_BRPORT_STATE", 3), ("IFLA_BRPORT_NO", 1)]  # what the collection does not read
    state = dumped("bridge", [("IFLA_BR_STP_STATE", stp), ("IFLA_BR_PRIORITY", 32768)], slave)
    assert view_of("bridge", state) == {"stp": bool(stp)}  # 2, STP in user space, is on too
    assert state.port == {option: bool(value) if option in PORT_FLAGS else value for option, value in settings_.items()}
