#!/bin/sh
# Installs the dependencies, builds vigil, and runs vigild on the demo in examples/.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh
echo "demo: vigild is starting; in another terminal try:" >&2
echo "  build/bin/vigilctl -c examples/demo.ini status" >&2
echo "  build/bin/vigilctl -c examples/demo.ini events -f" >&2
echo "Stop it with Ctrl-C." >&2
exec build/bin/vigild -c examples/demo.ini
