#!/usr/bin/env bash
# Rebuilds the main-chain contracts' bytecode and ABI (build/) from their source (src/) with
# the pinned solc and OpenZeppelin Contracts from the npm registry, offline once installed.
# `build.sh --check` rebuilds into a temporary directory and fails if anything differs from
# what is committed. The tools go under target/evm-tools, with Anvil, which the tests run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../target/evm-tools"
packages=(solc@0.8.37 @openzeppelin/contracts@5.7.0 @foundry-rs/anvil@1.7.1)
if [ ! -x "$tools/node_modules/.bin/solcjs" ] || [ ! -x "$tools/node_modules/.bin/anvil" ]; then
  mkdir -p "$tools"
  npm install --no-audit --no-fund --silent --prefix "$tools" "${packages[@]}"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$here" && "$tools/node_modules/.bin/solcjs" --optimize --bin --abi \
  --base-path . --include-path "$tools/node_modules" -o "$out" \
  src/MilkCoin.sol src/MilkVault.sol)
status=0
mkdir -p "$here/build"
for c in MilkCoin MilkVault; do
  for ext in bin abi; do
    built="$out/src_${c}_sol_${c}.$ext"
    kept="$here/build/$c.$ext"
    if [ "${1:-}" = "--check" ]; then
      if ! cmp -s "$built" "$kept"; then
        echo "contracts/build/$c.$ext differs from what src/ compiles to: run contracts/build.sh" >&2
        status=1
      fi
    else
      cp "$built" "$kept"
    fi
  done
done
exit $status
