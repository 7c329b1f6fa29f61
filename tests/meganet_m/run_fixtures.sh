#!/bin/sh
# Regenerate the Meganet.m reference fixtures.
# Usage: tests/meganet_m/run_fixtures.sh /path/to/Meganet.m [outDir]
# Needs GNU Octave (octave-cli). outDir defaults to tests/meganet_m/fixtures.
set -e
if [ $# -lt 1 ] || [ ! -f "$1/abstractMeganetElement.m" ]; then
  echo "usage: $0 /path/to/Meganet.m-checkout [outDir]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$1" && pwd)
out=${2:-$here/fixtures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"
exec octave-cli --no-gui --norc --quiet --eval "make_fixtures_paths('$src'); make_fixtures('$src', '$out')"
