#!/usr/bin/env bash
# Fetches the front-end libraries (Apache ECharts, htmx) from the npm registry and copies the files
# the desk serves into crates/web/static/vendor/, where they are committed and
# embedded in the binary: building opsdesk needs no network beyond crates.io.
# Run again to update; the versions are pinned here.
set -euo pipefail
cd "$(dirname "$0")/.."

ECHARTS=6.1.0
HTMX=2.0.11

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out=crates/web/static/vendor
mkdir -p "$out"

( cd "$work" && npm pack --silent "echarts@$ECHARTS" "htmx.org@$HTMX" >/dev/null )
tar -xzf "$work/echarts-$ECHARTS.tgz" -C "$work" package/dist/echarts.min.js package/LICENSE
cp "$work/package/dist/echarts.min.js" "$out/echarts.min.js"
cp "$work/package/LICENSE" "$out/echarts.LICENSE"
rm -rf "$work/package"
tar -xzf "$work/htmx.org-$HTMX.tgz" -C "$work" package/dist/htmx.min.js package/LICENSE
cp "$work/package/dist/htmx.min.js" "$out/htmx.min.js"
cp "$work/package/LICENSE" "$out/htmx.LICENSE"
printf 'echarts %s\nhtmx.org %s\n' "$ECHARTS" "$HTMX" > "$out/VERSIONS"
ls -l "$out"
