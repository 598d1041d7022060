#!/usr/bin/env bash
# Refresh the vendored GOV.UK Frontend and rebuild static/css/app.css.
#
#   scripts/refresh-govuk-frontend.sh [VERSION]     (default: the version in static/vendor/govuk-frontend/VERSION)
#
# Needs Node.js and npm (only here, never at run time). Downloads the release from the npm
# registry, copies its JavaScript and licence under static/vendor/govuk-frontend/, and compiles
# static/src/app.scss against it with Dart Sass (arial, no GDS Transport font face, no crown).
# Check the version against govuk-frontend-jinja's supported release before changing it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/static/vendor/govuk-frontend"
version=${1:-$(cat "$vendor/VERSION")}
sass_version=1.108.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "govuk-frontend@$version" "sass@$sass_version" >/dev/null
package="$work/node_modules/govuk-frontend"

mkdir -p "$vendor"
cp "$package/dist/govuk/govuk-frontend.min.js" "$vendor/"
# The package ships no LICENSE file: keep its README's licence statement with the MIT text.
{
  sed -n '/^## Licence/,/^## [^L]/p' "$package/README.md" | sed '$d'
  cat <<'MIT'
MIT License

Copyright (c) Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
MIT
} > "$vendor/LICENCE.md"
echo "$version" > "$vendor/VERSION"

npx sass --no-source-map --style=compressed --load-path="$work/node_modules" \
  "$root/static/src/app.scss" "$root/static/css/app.css"
echo "GOV.UK Frontend $version vendored; static/css/app.css rebuilt."
