#!/usr/bin/env bash
# Release proof on this machine: build the sdist and the wheel exactly as a release would,
# check what each contains, then install the wheel (and its auditwheel-repaired manylinux
# twin) into fresh virtual environments and run the test suite against it from a directory
# that holds no source tree. Needs Python >= 3.11 with venv, a C compiler, and PyPI.
#
#   bash scripts/check-dist.sh          # from anywhere; KEEP=1 keeps the work directory
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/kospi-fast-dist.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then echo "check-dist: work directory $work"; else trap 'rm -rf "$work"' EXIT; fi

say() { printf '\ncheck-dist: %s\n' "$*"; }
die() { printf 'check-dist: FAILED: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS

# --- tools, from the `dist` extra of pyproject.toml (one list to keep up to date) ---------
say "installing the release tools (the 'dist' extra)"
"$python" -m venv "$work/tools"
"$work/tools/bin/python" - "$repo/pyproject.toml" > "$work/dist-requirements.txt" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["dist"]))
PY
"$work/tools/bin/python" -m pip install --quiet --upgrade pip
"$work/tools/bin/python" -m pip install --quiet -r "$work/dist-requirements.txt"
tools="$work/tools/bin"

# --- build: sdist first, then the wheel *from the sdist* (python -m build's default) -------
say "python -m build (sdist, then a wheel built from that sdist)"
"$tools/python" -m build --outdir "$work/dist" "$repo" > "$work/build.log" 2>&1 \
    || { tail -n 60 "$work/build.log"; die "python -m build failed"; }
shopt -s nullglob
sdists=("$work"/dist/*.tar.gz)
wheels=("$work"/dist/*.whl)
[ "${#sdists[@]}" -eq 1 ] || die "expected one sdist, got: ${sdists[*]-none}"
[ "${#wheels[@]}" -eq 1 ] || die "expected one wheel, got: ${wheels[*]-none}"
sdist="${sdists[0]}"
wheel="${wheels[0]}"
echo "  $(basename "$sdist")"
echo "  $(basename "$wheel")"

say "checking the sdist's contents"
tar -tzf "$sdist" | sed 's|^[^/]*/||' | sort > "$work/sdist.txt"
if grep -E '\.(c|so|pyd)$' "$work/sdist.txt"; then die "the sdist ships generated or built files (above)"; fi
for f in setup.py pyproject.toml MANIFEST.in README.md LICENSE .ci/run \
         src/kospi_fast/py.typed src/kospi_fast/data/sample_universe.csv \
         src/kospi_fast/__init__.pxd src/kospi_fast/_include.py \
         tests/conftest.py tests/cython_consumer/consumer.pyx tests/typing/example_user.py \
         examples/live_feed.py docs/conf.py CHANGELOG.md; do
    grep -qxF "$f" "$work/sdist.txt" || die "the sdist lacks $f"
done
# Every extension module: its .pyx and its .pyi stub in the sdist, compiled in the wheel.
modules="$(sed -n 's|^src/kospi_fast/\([^/]*\)\.pyx$|\1|p' "$work/sdist.txt")"
for m in _aggregate _ticks _rebase _engine; do
    grep -qxF "$m" <<< "$modules" || die "the sdist lacks src/kospi_fast/$m.pyx"
done
for m in $modules; do
    grep -qxF "src/kospi_fast/$m.pyi" "$work/sdist.txt" || die "the sdist lacks src/kospi_fast/$m.pyi"
done
for m in _aggregate _ticks _rebase; do
    grep -qxF "src/kospi_fast/$m.pxd" "$work/sdist.txt" || die "the sdist lacks src/kospi_fast/$m.pxd"
done
echo "  $(wc -l < "$work/sdist.txt") files; sources, stubs, .pxd, data and tests present; no .c"

say "checking the wheel's contents"
"$tools/python" -m zipfile -l "$wheel" | awk 'NR > 1 {print $1}' | sort > "$work/wheel.txt"
if grep -E '\.c$' "$work/wheel.txt"; then die "the wheel ships generated C (above)"; fi
for f in py.typed __init__.pxd _aggregate.pxd _ticks.pxd _rebase.pxd _aggregate.pyi _ticks.pyi \
         _rebase.pyi _engine.pyi _include.py data/sample_universe.csv; do
    grep -qxF "kospi_fast/$f" "$work/wheel.txt" || die "the wheel lacks kospi_fast/$f"
done
for m in $modules; do
    grep -qE "^kospi_fast/$m\.[^/]*\.(so|pyd)$" "$work/wheel.txt" || die "the wheel lacks the compiled $m"
    grep -qxF "kospi_fast/$m.pyi" "$work/wheel.txt" || die "the wheel lacks kospi_fast/$m.pyi"
done
echo "  compiled extensions ($(echo $modules)), .pxd, .pyi, py.typed and data present; no .c"

# --- test an installed wheel from a directory without the source tree ---------------------
# The test directory gets tests/, examples/ (run by tests/test_examples.py), benchmarks/ (run
# against the installed wheel by tests/test_benchmarks_run.py), pyproject.toml
# (pytest config), README.md and .ci/run (read by tests/test_cli_readme.py), and a ../shared
# link to the real-data folder, if any.
testdir="$work/t/proj"
mkdir -p "$testdir/.ci"
cp -R "$repo/tests" "$testdir/tests"
cp -R "$repo/examples" "$testdir/examples"
cp -R "$repo/benchmarks" "$testdir/benchmarks"
cp "$repo/pyproject.toml" "$repo/README.md" "$testdir/"
cp "$repo/.ci/run" "$testdir/.ci/run"
shared="${KOSPI_FAST_SHARED:-$repo/../shared}"
if [ -d "$shared" ]; then ln -s "$(cd "$shared" && pwd)" "$work/t/shared"; fi
find "$testdir" -name __pycache__ -prune -exec rm -rf {} +

test_wheel() {  # $1: wheel, $2: venv name
    local venv="$work/$2"
    say "fresh venv $2: pip install $(basename "$1")[test], then pytest outside the source tree"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$1[test]"
    (
        cd "$testdir"
        where="$("$venv/bin/python" -c 'import kospi_fast; print(kospi_fast.__file__)')"
        case "$where" in
            "$venv"/*) echo "  kospi_fast imported from $where" ;;
            *) die "kospi_fast imported from $where, not from the fresh venv" ;;
        esac
        "$venv/bin/python" -m pytest -q -p no:cacheprovider
    )
}

test_wheel "$wheel" venv-wheel

# --- auditwheel: inspect, repair to a manylinux tag, and test the repaired wheel ----------
if [ "$(uname -s)" = Linux ]; then
    say "auditwheel show"
    "$tools/auditwheel" show "$wheel"
    say "auditwheel repair"
    PATH="$tools:$PATH" "$tools/auditwheel" repair --wheel-dir "$work/repaired" "$wheel"
    repaired=("$work"/repaired/*.whl)
    [ "${#repaired[@]}" -eq 1 ] || die "expected one repaired wheel, got: ${repaired[*]-none}"
    case "$(basename "${repaired[0]}")" in
        *manylinux*) echo "  $(basename "${repaired[0]}")" ;;
        *) die "auditwheel repair did not produce a manylinux wheel: ${repaired[0]}" ;;
    esac
    test_wheel "${repaired[0]}" venv-manylinux
else
    say "auditwheel skipped: not Linux"
fi

say "OK: sdist and wheel build, contents checked, wheel tests pass ($((SECONDS - t0)) s)"
