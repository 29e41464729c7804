"""Strict input (issue 13 item 6): unknown keys, wrong types, silent coercions, the validators'
edge cases, and a generative test feeding random junk through the check and every kind's parser."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from input_cases import WRONG_TYPES, macvlan

from ansible_collections.linuxnet.macvlan.plugins.module_utils import registry, schema, validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePortSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError, missing_link_type_hint
from ansible_collections.linuxnet.macvlan.plugins.module_utils.namespace import NetnsSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import KINDS, TOPOLOGY_LINK_OPTIONS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.topology import parse_document


def problems(document: Dict[str, Any]) -> List[str]:
    """Every problem parse_document reports, as text ([] when the document is accepted)."""
    try:
        parse_document(document)
    except ValidationError as exc:
        return [str(e) for e in getattr(exc, "errors", [exc])]
    return []


class TestTopologyDocument:
    def test_unknown_key_names_the_closest_option(self):
        assert problems({"links": [macvlan(mdoe="private")]}) == \
            ["links[0].mdoe: unknown option, did you mean 'mode'?"]

    def test_route_with_dst_is_refused_not_a_default_route(self):
        assert problems({"namespaces": [{"name": "ns1", "routes": [{"dst": "10.0.0.0/8", "dev": "lo"}]}]}) == \
            ["namespaces[0].routes[0].dst: unknown option, did you mean 'dest'?"]

    def test_link_route_mapping_keys_are_checked_too(self):
        assert problems({"links": [macvlan(routes=[{"dst": "10.0.0.0/8"}])]}) == \
            ["links[0].routes[0].dst: unknown option, did you mean 'dest'?"]

    def test_link_route_neither_text_nor_mapping(self):
        assert problems({"links": [macvlan(routes=[42])]}) == \
            ["links[0].routes[0]: expected a destination or a mapping with dest, via, dev, metric, not 42"]

    def test_unknown_key_far_from_everything_lists_the_options(self):
        [problem] = problems({"bridge_ports": [{"name": "p0", "bridge": "br0", "zzzzzz": 1}]})
        assert problem.startswith("bridge_ports[0].zzzzzz: unknown option; valid options are bridge, cost, hairpin")

    @pytest.mark.parametrize("document, expected", WRONG_TYPES)
    def test_wrong_types_are_errors_not_tracebacks_nor_coerced(self, document, expected):
        assert problems(document) == [expected]

    def test_integral_values_are_still_integers(self):
        assert problems({"links": [macvlan(mtu="1400"), macvlan(name="mv1", mtu=1400.0)]}) == []

    def test_bad_kind(self):
        assert problems({"links": [{"kind": "macvlna", "name": "x"}, {"name": "y"}]}) == [
            "links[0].kind: 'macvlna' is not one of macvlan, macvtap, ipvlan, vlan, veth, dummy, bridge; "
            "did you mean 'macvlan'?",
            "links[1].kind: is required (one of macvlan, macvtap, ipvlan, vlan, veth, dummy, bridge)",
        ]

    def test_options_of_another_kind_are_unknown(self):
        [problem] = problems({"links": [{"kind": "bridge", "name": "br0", "parent": "eth0"}]})
        assert problem.startswith("links[0].parent: unknown option; valid options are addresses, admin_state")

    def test_every_problem_at_once_and_good_entries_still_parsed(self):
        found = problems({
            "namespaces": [{"name": "ns1", "lopback_up": True}, {"name": "ns 2"}],
            "links": [macvlan(mdoe="private"), macvlan(name="mv1", mtu=10)],
        })
        assert found == [
            "namespaces[0].lopback_up: unknown option, did you mean 'loopback_up'?",
            "links[0].mdoe: unknown option, did you mean 'mode'?",
            "namespaces[1].name: 'ns 2' is not a valid namespace name (letters, digits, '.', '_', '-')",
            "links[1].mtu: 10 is out of range 68-65535",
        ]


class TestValidators:
    @pytest.mark.parametrize("name", ["ns1\n", "ns1\r", "\nns1", "ns 1"])
    def test_netns_name_with_white_space(self, name):
        with pytest.raises(ValidationError):
            validate.netns_name("netns", name)

    def test_interface_name_with_trailing_newline(self):
        with pytest.raises(ValidationError, match="white space"):
            validate.interface_name("name", "eth0\n")

    @pytest.mark.parametrize("value", [["a"], 5, 5.5, {"a": 1}])
    def test_names_must_be_strings(self, value):
        with pytest.raises(ValidationError, match="is not a string"):
            validate.interface_name("name", value)

    @pytest.mark.parametrize("mac", ["02:00:00:00:00:01:", "02:00:00:00:00:0", "02:00:00:00:00:01x"])
    def test_mac_whole_text(self, mac):
        with pytest.raises(ValidationError):
            validate.mac_address("m", mac)

    @pytest.mark.parametrize("addresses", [["fd00::1/64", "fd00::1/48"], ["10.0.0.1/24", "10.0.0.1/16"],
                                           ["fd00::1/64", "fd00:0::1/64"]])
    def test_one_address_with_two_prefixes(self, addresses):
        with pytest.raises(ValidationError, match=r"addresses\[1\]: .* is listed twice"):
            validate.address_list("addresses", addresses)

    @pytest.mark.parametrize("address", ["10.0.0.1/\u00b2", "10.0.0.1\x00/24", "\uff110.0.0.1/24",
                                         "10.0.0.1/033", "10.0.0.1/33", "fd00::1/129"])
    def test_odd_addresses_are_validation_errors(self, address):
        with pytest.raises(ValidationError):
            validate.interface_address("a", address)

    @pytest.mark.parametrize("value", [True, False, 1400.7, "1400.7", "", "0x10", [1], None])
    def test_not_integers(self, value):
        with pytest.raises(ValidationError, match="is not an integer"):
            validate.int_range("mtu", value, 68, 65535)

    @pytest.mark.parametrize("value", [1400, 1400.0, "1400", " 1400 "])
    def test_integers(self, value):
        assert validate.int_range("mtu", value, 68, 65535) == 1400

    @pytest.mark.parametrize("value", [[True], {"a": 1}, 2, 1.0, "maybe"])
    def test_not_booleans(self, value):
        with pytest.raises(ValidationError, match="is not a boolean"):
            validate.boolean("b", value)


class TestMissingLinkTypeHint:
    @pytest.mark.parametrize("kind, module, config", [
        ("macvlan", "macvlan", "CONFIG_MACVLAN"), ("macvtap", "macvtap", "CONFIG_MACVTAP"),
        ("vlan", "8021q", "CONFIG_VLAN_8021Q"), ("veth", "veth", "CONFIG_VETH"),
        ("bridge", "bridge", "CONFIG_BRIDGE"), ("ipvlan", "ipvlan", "CONFIG_IPVLAN"),
        ("dummy", "dummy", "CONFIG_DUMMY"),
    ])
    def test_module_and_config_names(self, kind, module, config):
        hint = missing_link_type_hint(kind)
        assert "`modprobe %s`" % module in hint and config + ")" in hint


class TestOneDefinition:
    """The rest of the one-definition tests (argument specs, generated docs) are in test_docs.py."""

    def test_topology_kinds_are_the_module_tables_plus_kind(self):
        assert set(TOPOLOGY_LINK_OPTIONS) == set(KINDS)
        for kind, spec in TOPOLOGY_LINK_OPTIONS.items():
            assert set(spec) == set(KINDS[kind].options) | {"kind"}
            assert registry.MODULES[KINDS[kind].module] is KINDS[kind].options, "the kind's module takes its options"


# -- generative: random input never gets past the check as anything but ValidationErrors --
PLAUSIBLE = st.sampled_from(["eth0", "mv0", "ns1", "ns1\n", "default", "10.0.0.1/24", "10.0.0.1/16", "fd00::1/64",
                             "10.0.0.0/8", "::/0", "10.0.0.1", "fd00::9", "02:00:00:00:00:01", "03:00:00:00:00:01",
                             "up", "bridge", "private", "passthru", "source", "802.1ad", "1400", "4094", "", "a" * 16])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 40, 2 ** 40), st.floats(allow_nan=True),
                    st.text(max_size=20), PLAUSIBLE)
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), PLAUSIBLE), inner, max_size=4)),
    max_leaves=12)
SYSCTL_KEYS = st.sampled_from(["net.ipv4.ip_forward", "net/ipv4/conf/eth0.5/rp_filter", "vm.swappiness", "net..x"])


def _value(option: Dict[str, Any], name: str, junk: bool) -> Any:
    """A value of the option's type (to reach the kinds' parsers); with `junk`, sometimes anything."""
    kind = option.get("type", "str")
    if kind == "str":
        typed = st.sampled_from(option["choices"]) if option.get("choices") else PLAUSIBLE
    elif kind == "int":
        typed = st.one_of(st.integers(-1, 70000), st.sampled_from(["5", "1400", "-1"]), st.just(1400.0))
    elif kind == "bool":
        typed = st.one_of(st.booleans(), st.sampled_from(["yes", "off", "1"]))
    elif kind == "dict" and option.get("options"):
        typed = _entry(option["options"], junk)
    elif kind == "dict":  # sysctls, QoS maps
        typed = st.dictionaries(st.one_of(SYSCTL_KEYS, st.integers(-1, 9).map(str)),
                                st.one_of(st.integers(-1, 9), PLAUSIBLE), max_size=3)
    elif option.get("elements") == "dict":
        typed = st.lists(_entry(option["options"], junk), max_size=3)
    elif option.get("elements") == "raw":  # a link's routes
        typed = st.lists(st.one_of(PLAUSIBLE, _entry(schema.LINK_ROUTE, junk)), max_size=3)
    else:
        typed = st.lists(_value({"type": option.get("elements")}, name, junk), max_size=3)
    return st.one_of(typed, typed, typed, JUNK) if junk else typed


def _entry(spec: Dict[str, Any], junk: bool = True) -> Any:
    """Entries of typed values only, of values some junk, with a misspelt key, or junk itself."""
    def entries(junk: bool) -> Any:
        values = {key: _value(option, key, junk) for key, option in spec.items()}
        return st.fixed_dictionaries({k: v for k, v in values.items() if spec[k].get("required")},
                                     optional={k: v for k, v in values.items() if not spec[k].get("required")})

    typed = entries(False)
    if not junk:
        return typed
    mixed = entries(True)
    extra = st.dictionaries(st.sampled_from(["mdoe", "dst", "nmae", "x"]), JUNK, min_size=1, max_size=1)
    return st.one_of(typed, typed, mixed, st.tuples(typed, extra).map(lambda pair: dict(pair[0], **pair[1])), JUNK)


PARSERS = [(kind.options, kind.spec_class) for _name, kind in sorted(KINDS.items())] + \
    [(schema.NETNS, NetnsSpec), (registry.BRIDGE_PORT, BridgePortSpec)]
LINK = st.sampled_from(sorted(KINDS)).flatmap(
    lambda kind: _entry(TOPOLOGY_LINK_OPTIONS[kind]).map(lambda entry: dict(entry, kind=kind)
                                                         if isinstance(entry, dict) else entry))


def _assert_paths(errors: List[ValidationError], prefix: str) -> None:
    assert errors and all(isinstance(e, ValidationError) and e.field.startswith(prefix) for e in errors), errors


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=st.sampled_from(PARSERS).flatmap(lambda parser: st.tuples(st.just(parser), _entry(parser[0]))))
def test_junk_into_each_kind(case):
    """The single-module path: the strict check, then the kind's parser only if the check passed."""
    (spec, parser), entry = case
    errors = schema.check(entry, spec, "x.")
    if not errors:
        try:
            parser.from_params(entry, "x.")
        except ValidationError as exc:
            errors = [exc]
        else:
            event("accepted")
            return
        event("refused by the parser")
    else:
        event("refused by the check")
    _assert_paths(errors, "x")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(spaces=st.lists(_entry(schema.NETNS), max_size=2), links=st.lists(LINK, max_size=3),
       ports=st.lists(_entry(registry.BRIDGE_PORT), max_size=2))
def test_junk_documents(spaces, links, ports):
    """The topology path: a whole document is parsed or refused with ValidationErrors, each with its path."""
    try:
        parse_document({"namespaces": spaces, "links": links, "bridge_ports": ports})
    except ValidationError as exc:
        errors = getattr(exc, "errors", [exc])
        _assert_paths(errors, "")
        assert all(e.field.split("[")[0] in ("namespaces", "links", "bridge_ports") for e in errors), errors
        event("refused")
    else:
        event("accepted")
