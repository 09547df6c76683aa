#!/bin/sh
# Re-vendor the web fonts and axe-core from the npm registry into api/static (committed, so the
# platform works offline and CI needs no npm). Run from the repository root; needs npm.
#   fonts: @fontsource/noto-sans-sc (Latin, Cyrillic and Chinese; regular weight only: bold is
#          synthesised, 3.7 MB of woff2 split by unicode-range so browsers fetch only the chunks
#          a page uses) and @fontsource/noto-naskh-arabic (Arabic script, covers Urdu's
#          U+06C1 ہ, U+06D2 ے, U+0679 ٹ, …; regular and bold). Both SIL OFL 1.1.
#   axe-core: the accessibility engine the browser tests inject (MPL-2.0).
set -eu
SC_VERSION=5.3.1
NASKH_VERSION=5.3.0
AXE_VERSION=4.14.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack -q "@fontsource/noto-sans-sc@$SC_VERSION" \
    "@fontsource/noto-naskh-arabic@$NASKH_VERSION" "axe-core@$AXE_VERSION" >/dev/null )
for tgz in "$work"/*.tgz; do
    mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done
sc="$work/fontsource-noto-sans-sc-$SC_VERSION/package"
naskh="$work/fontsource-noto-naskh-arabic-$NASKH_VERSION/package"
axe="$work/axe-core-$AXE_VERSION/package"

fonts=api/static/fonts
rm -rf "$fonts" && mkdir -p "$fonts/files"
cp "$sc/LICENSE" "$fonts/LICENSE-noto-sans-sc.txt"
cp "$naskh/LICENSE" "$fonts/LICENSE-noto-naskh-arabic.txt"
{
    echo "/* Self-hosted web fonts (scripts/vendor-web-assets.sh): Noto Sans SC $SC_VERSION and"
    echo "   Noto Naskh Arabic $NASKH_VERSION from Fontsource, SIL Open Font License 1.1. woff2 only. */"
    # Keep the woff2 source of each @font-face; drop the woff fallback every current browser skips.
    for css in "$sc/400.css" "$naskh/arabic-400.css" "$naskh/arabic-700.css"; do
        sed -e "s#, url(./files/[^)]*\.woff) format('woff')##" -e '/^\/\*/d' "$css"
    done
} > "$fonts/fonts.css"
grep -o 'files/[^)]*\.woff2' "$fonts/fonts.css" | sort -u | while read -r file; do
    name=$(basename "$file")
    if [ -f "$sc/files/$name" ]; then cp "$sc/files/$name" "$fonts/files/"; else cp "$naskh/files/$name" "$fonts/files/"; fi
done

mkdir -p api/static/axe
cp "$axe/axe.min.js" "$axe/LICENSE" api/static/axe/
echo "vendored: $(ls "$fonts/files" | wc -l) font files, axe-core $AXE_VERSION"
