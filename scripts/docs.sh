#!/usr/bin/env bash
# The documentation: lint it, check the changelog, build the site.
#
#   scripts/docs.sh [lint|changelog|site|all]     default: all
#
#   lint       antsibull-docs lint-collection-docs --plugin-docs: every module's, plugin's and role's
#              docs (schema, markup, references) and the user guide (docs/docsite/: RST and its
#              references to the collection's plugins)
#   changelog  antsibull-changelog lint, and CHANGELOG.md / CHANGELOG.rst up to date with
#              changelogs/changelog.yaml (regenerate them with: .build/docs-venv/bin/antsibull-changelog generate)
#   site       the HTML site in .build/docs/site/build/html: the user guide with the module, plugin
#              and role reference rendered by antsibull-docs (sphinx-init scaffold + Sphinx)
#
# The tools live in .build/docs-venv, pinned in scripts/docs-requirements.txt, created once and
# reused while the pins are unchanged. The collection is read where scripts/bootstrap.sh links it
# (.build/collections).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
venv=$top/.build/docs-venv
export PIP_DISABLE_PIP_VERSION_CHECK=1 ANSIBLE_NOCOLOR=1
what=${1:-all}

if [ ! -x "$venv/bin/antsibull-docs" ] || ! cmp -s scripts/docs-requirements.txt "$venv/docs-requirements.txt"; then
    echo "docs: installing the tools into $venv (scripts/docs-requirements.txt)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q -r scripts/docs-requirements.txt 2>&1 \
        | { grep -v '^WARNING: Location .* is ignored' || true; }
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
    cp scripts/docs-requirements.txt "$venv/docs-requirements.txt"
fi
collection=$top/.build/collections/ansible_collections/linuxnet/macvlan
[ -e "$collection/galaxy.yml" ] || { echo "docs: $collection missing: run scripts/bootstrap.sh"; exit 1; }
site_packages=$(echo "$top"/.venv/lib/python3*/site-packages)
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$top/.build/collections:$site_packages"

lint() {
    echo "docs: antsibull-docs lint-collection-docs --plugin-docs"
    (cd "$collection" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        --validate-collection-refs self --disallow-unknown-collection-refs .) > "$top/.build/docs-lint.log" 2>&1 \
        || { cat "$top/.build/docs-lint.log"; return 1; }
    # It reports problems on stdout and may still exit 0: any output is a problem.
    if grep -q . "$top/.build/docs-lint.log"; then
        cat "$top/.build/docs-lint.log"
        return 1
    fi
    echo "docs: lint clean"
}

changelog() {
    echo "docs: antsibull-changelog lint, CHANGELOG.md/.rst up to date"
    antsibull-changelog lint
    local tmp
    tmp=$(mktemp -d)
    cp -r changelogs galaxy.yml CHANGELOG.md CHANGELOG.rst "$tmp"/
    (cd "$tmp" && antsibull-changelog generate)
    local ok=0 f
    for f in CHANGELOG.md CHANGELOG.rst; do
        diff -u "$f" "$tmp/$f" || { echo "docs: $f is not what changelogs/changelog.yaml generates"; ok=1; }
    done
    rm -rf "$tmp"
    [ $ok -eq 0 ] && echo "docs: changelog clean"
    return $ok
}

site() {
    local dir=$top/.build/docs/site
    echo "docs: building the site in $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$dir" \
        --project linuxnet.macvlan --title linuxnet.macvlan --copyright "linuxnet.macvlan contributors" \
        linuxnet.macvlan > /dev/null
    # No network here but the package registries: no intersphinx inventories to fetch.
    echo "intersphinx_mapping = {}" >> "$dir/conf.py"
    (cd "$dir" && mkdir -p rst && chmod og-w rst &&
     antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error \
        --use-current --squash-hierarchy --dest-dir rst linuxnet.macvlan > ../antsibull.log 2>&1 &&
     sphinx-build -M html rst build -c . -q --keep-going 2> ../sphinx-warnings.log) \
        || { cat "$top/.build/docs/antsibull.log" "$top/.build/docs/sphinx-warnings.log"; return 1; }
    # The generated reference links to labels of Ansible's own documentation site (common return
    # values, configuration settings, action plugins), which resolve only through intersphinx;
    # every other warning fails the build.
    local other
    other=$(grep 'WARNING' "$top/.build/docs/sphinx-warnings.log" \
        | grep -vE "undefined label: '(common_return_values|ansible_configuration_settings|action_plugins)'" || true)
    if [ -n "$other" ]; then
        echo "$other"
        return 1
    fi
    local page
    for page in index docsite/guide_concepts docsite/guide_lab docsite/guide_ownership docsite/guide_persistence \
                docsite/guide_fleets docsite/guide_awx docsite/guide_troubleshooting topology_module \
                macvlan_topology_role arp_sysctl_role; do
        [ -s "$dir/build/html/$page.html" ] || { echo "docs: $page.html missing from the site"; return 1; }
    done
    echo "docs: site built: $dir/build/html/index.html ($(find "$dir/build/html" -name '*.html' | wc -l) pages)"
}

case $what in
    lint) lint ;;
    changelog) changelog ;;
    site) site ;;
    all) status=0; lint || status=1; changelog || status=1; site || status=1; exit $status ;;
    *) echo "usage: $0 [lint|changelog|site|all]" >&2; exit 2 ;;
esac
