#!/usr/bin/env bash
# Installs the real peers the tests need (test/apt-packages.txt) when they are missing.
# As root it uses apt; otherwise it names what is missing and fails — a missing peer is
# never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
while read -r file pkg; do
  [[ -z "${file}" || "${file}" == \#* ]] && continue
  [[ -e "${file}" ]] || missing+=("${pkg}")
done < test/apt-packages.txt
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "test peers: all present"
  exit 0
fi
# shellcheck disable=SC2207
missing=($(printf '%s\n' "${missing[@]}" | sort -u))
echo "test peers: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "test peers missing: ${missing[*]} — install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test peers: installed ${missing[*]}"
