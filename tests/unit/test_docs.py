"""Every parameter is written once, in the tables of plugins/module_utils (schema.py, registry.py):
the modules' argument specs and every generated doc block come from them, and what the tables
say about re-creation is what the engine does."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from ansible_collections.linuxnet.macvlan.plugins.module_utils import registry, schema

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(gen_docs)

# Ansible's own spec keys the tables use; anything else must be a documentation key.
ANSIBLE_KEYS = {"type", "elements", "required", "choices", "default", "options"}


def options_of(table: schema.Spec, path: str = "") -> Iterator[Tuple[str, Dict[str, Any]]]:
    for name, option in table.items():
        yield path + name, option
        yield from options_of(option.get("options") or {}, path + name + ".")


def every_option() -> Iterator[Tuple[str, Dict[str, Any]]]:
    for module, table in registry.MODULES.items():
        for path, option in options_of(table):
            yield "%s: %s" % (module, path), option
    yield "topology: links[].kind", registry.KIND_OPTION


def test_generated_blocks_are_current():
    stale = gen_docs.stale()
    assert stale == [], "stale generated docs in %s: run .venv/bin/python scripts/gen_docs.py" % ", ".join(stale)


@pytest.mark.parametrize("where, option", list(every_option()), ids=lambda value: value if isinstance(value, str) else "")
def test_every_option_has_one_description_and_only_known_keys(where, option):
    text = option.get("description")
    assert text and all(line and isinstance(line, str) for line in (text if isinstance(text, list) else [text])), where
    assert set(option) <= ANSIBLE_KEYS | set(schema.DOC_KEYS), where


def test_bridge_port_descriptions_match_the_engine_settings():
    """The one table of text keyed by names (the port settings come from bridgeport.py)."""
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import FLAGS, NUMBERS

    assert set(registry._PORT_DOCS) == set(FLAGS) | set(NUMBERS)


@pytest.mark.parametrize("module", sorted(registry.MODULES))
def test_modules_pass_their_table_without_the_documentation(module):
    code = importlib.import_module("ansible_collections.linuxnet.macvlan.plugins.modules." + module)
    assert code.ARGUMENT_SPEC == schema.argument_spec(registry.MODULES[module])
    assert not [path for path, option in options_of(code.ARGUMENT_SPEC) if set(option) - ANSIBLE_KEYS]


@pytest.mark.parametrize("module", sorted(registry.MODULES))
def test_documentation_as_ansible_reads_it_is_the_table(module):
    """The module's options and its fragments', merged as ansible-doc merges them, are the
    table's: names, types, choices, defaults, required, suboptions (topology: its entries')."""
    code = importlib.import_module("ansible_collections.linuxnet.macvlan.plugins.modules." + module)
    docs = yaml.safe_load(code.DOCUMENTATION)
    options = dict(docs.get("options") or {})
    for fragment in docs.get("extends_documentation_fragment", []):
        source, section = (fragment.split(".", 2)[2] + ".").split(".")[:2]
        doc = importlib.import_module("ansible_collections.linuxnet.macvlan.plugins.doc_fragments." + source)
        options.update(yaml.safe_load(getattr(doc.ModuleDocFragment, section.upper() or "DOCUMENTATION"))
                       .get("options") or {})
    table = dict(registry.MODULES[module])
    if module == "topology":
        for section, entries in registry.SECTIONS:
            if entries is None:  # every kind's options in one list; each kind is checked on its own
                entries = {name: option for kinds in registry.TOPOLOGY_LINK_OPTIONS.values()
                           for name, option in kinds.items()}
            table[section] = dict(table[section], options=entries)
    assert _facts(options, "suboptions", loose=module == "topology") == _facts(table, "options", loose=module == "topology")


def _facts(options: Dict[str, Any], nested: str, loose: bool = False) -> Dict[str, Any]:
    """What validate-modules compares (plus suboptions); `loose`: types and names only below the top."""
    def facts(option: Dict[str, Any], depth: int) -> Any:
        keys = ("type", "elements") if loose and depth else ("type", "elements", "choices", "default", "required")
        own = tuple(option.get(key) if key != "type" else option.get(key, "str") for key in keys)
        return own, {name: facts(value, depth + 1) for name, value in (option.get(nested) or {}).items()}
    return {name: facts(option, 0) for name, option in options.items()}


# -- `recreates` says what the engine does ---------------------------------------------------------
SMALLEST = {"macvlan": {"name": "mv0", "parent": "eth0"}, "macvtap": {"name": "mv0", "parent": "eth0"},
            "ipvlan": {"name": "ipv0", "parent": "eth0"}, "vlan": {"name": "eth0.5", "parent": "eth0", "vlan_id": 5},
            "veth": {"name": "v0", "peer": "v0p"}, "dummy": {"name": "d0"}, "bridge": {"name": "br0"}}


def _others(option: Dict[str, Any], value: Any) -> List[Any]:
    """Values the link could have had instead (the kernel's, read back as `before`)."""
    if option.get("choices"):
        return [choice for choice in option["choices"] if choice != value]
    kind = option.get("type", "str")
    if kind == "bool":
        return [not value]
    if kind == "int":
        return [value + 1 if isinstance(value, int) else 1400]
    if kind == "list":
        return [["10.9.9.9/24"]]
    if kind == "dict":
        return [{1: 2}]
    return [(value or "") + "x"]


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_recreates_is_what_the_engine_does(kind):
    """Every option marked `recreates: true` re-creates the link whatever it changes from; one
    marked with a condition does for some value; every other option changes in place."""
    assert set(SMALLEST) == set(registry.KINDS), "a kind without its smallest entry here"
    link_kind = registry.KINDS[kind]
    resource = link_kind.resource_class(link_kind.spec_from_entry(dict(SMALLEST[kind]), ""))
    wanted = resource.predict(None)
    for name, option in link_kind.options.items():
        recreated = [bool(resource.needs_recreate(dict(wanted, **{name: other})))
                     for other in _others(option, wanted.get(name))]
        marked = option.get("recreates")
        if marked is True:
            assert all(recreated), "%s.%s: marked recreates, but some change is made in place" % (kind, name)
        elif marked:
            assert any(recreated), "%s.%s: marked recreates (on a condition), but never does" % (kind, name)
        else:
            assert not any(recreated), "%s.%s: re-creates the link, but its docs do not say so" % (kind, name)
