#!/usr/bin/env bash
# Whole-process benchmark of pipefix on synthetic monorepos (see docs/performance.md).
#
#   scripts/bench.sh [--sizes "100 1000 10000"] [--cases "clean dirty"] [--runs 5]
#                    [--with-checkov] [--checkov-max 100] [--checkov-runs 1]
#
# For each case and size N it generates (once, cached under target/bench/) a monorepo of N
# services with examples/gen-monorepo.rs -- "clean": about half of the services have one to
# four problems; "dirty" (--dirty): every service has every problem its deploy path allows,
# the first run over a neglected monorepo -- then measures wall time and peak RSS, median of
# --runs runs after one warm-up run, of:
#   pipefix   pipefix --dry-run DIR > /dev/null
#   floor     find DIR -type f -exec cat {} + > /dev/null   (reading the same bytes)
#   checkov   checkov -d DIR (only with --with-checkov, no warm-up, only up to --checkov-max
#             services: it takes minutes per hundred services; bigger sizes are extrapolated
#             linearly from the largest measured one and marked with ~)
# and the one-file (pre-commit) case: pipefix --dry-run one/taskdef.json, process start
# included (hyperfine when installed, otherwise repeated runs).
#
# Needs GNU time (/usr/bin/time: `apt-get install time`); --with-checkov installs checkov
# into a virtualenv under target/bench/ with pip.
set -euo pipefail

sizes="100 1000 10000"
cases="clean dirty"
runs=5
with_checkov=0
checkov_max=100
checkov_runs=1
seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes="$2"; shift 2 ;;
        --cases) cases="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --with-checkov) with_checkov=1; shift ;;
        --checkov-max) checkov_max="$2"; shift 2 ;;
        --checkov-runs) checkov_runs="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
bench="$target/bench"
mkdir -p "$bench"

if [ ! -x /usr/bin/time ]; then
    echo "GNU time is missing; trying: apt-get install -y time" >&2
    if command -v apt-get > /dev/null; then
        if [ "$(id -u)" = 0 ]; then apt-get install -y time > /dev/null; else sudo apt-get install -y time > /dev/null; fi
    fi
    [ -x /usr/bin/time ] || { echo "install GNU time (package 'time') and run again" >&2; exit 2; }
fi

echo "== building (release)" >&2
cargo build --release --quiet --bin pipefix --example gen-monorepo
pipefix="$target/release/pipefix"
gen="$target/release/examples/gen-monorepo"

checkov=""
if [ "$with_checkov" = 1 ]; then
    venv="$bench/checkov-venv"
    if [ ! -x "$venv/bin/checkov" ]; then
        echo "== installing checkov into $venv (pip)" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet checkov
    fi
    checkov="$venv/bin/checkov"
fi

# Generated trees are cached; a change of the generator regenerates them.
gen_sum=$(cksum < examples/gen-monorepo.rs | cut -d' ' -f1)
# tree N [CASE]: the generated monorepo's folder (CASE: clean, the default, or dirty).
tree() {
    local n=$1 case=${2:-clean} dir flag=()
    if [ "$case" = dirty ]; then
        dir="$bench/dirty-$n" flag=(--dirty)
    else
        dir="$bench/mono-$n"
    fi
    if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$gen_sum-$seed" ]; then
        rm -rf "$dir"
        echo "== generating $n services ($case)" >&2
        "$gen" --services "$n" --out "$dir" --seed "$seed" "${flag[@]}" >&2
        echo "$gen_sum-$seed" > "$dir/.stamp"
    fi
    echo "$dir"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure RUNS WARMUP(0|1) CMD... : prints "median_seconds median_peak_kib"
measure() {
    local n=$1 warm=$2; shift 2
    local times=() mems=() t0 t1 i
    if [ "$warm" = 1 ]; then "$@" > /dev/null 2>&1 || true; fi # warm-up (page cache, binary)
    for ((i = 0; i < n; i++)); do
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$bench/.time" "$@" > /dev/null 2>&1 || true
        t1=$(date +%s%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')")
        mems+=("$(tail -n1 "$bench/.time")")
    done
    echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${mems[@]}" | median)"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
echo "machine: $(nproc) cores ($cpu), $mem RAM, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pipefix: $("$pipefix" --version), median of $runs runs after a warm-up, page cache warm"
[ -n "$checkov" ] && echo "checkov: $("$checkov" --version 2>/dev/null | tail -n1)"
echo

declare -A P_T P_M F_T C_T C_X D
for case in $cases; do
    for n in $sizes; do
        k="$case-$n"
        dir=$(tree "$n" "$case")
        D[$k]=$dir
        echo "== N=$n ($case): pipefix" >&2
        read -r P_T[$k] P_M[$k] < <(measure "$runs" 1 "$pipefix" --dry-run "$dir")
        echo "== N=$n ($case): read floor" >&2
        read -r F_T[$k] _ < <(measure "$runs" 1 find "$dir" -type f -exec cat {} +)
        if [ -n "$checkov" ] && [ "$case" = clean ] && [ "$n" -le "$checkov_max" ]; then
            echo "== N=$n: checkov" >&2
            read -r C_T[$k] _ < <(measure "$checkov_runs" 0 "$checkov" -d "$dir" --quiet --compact --skip-download)
            C_X[$k]=""
            last_checkov=$n
        fi
    done
done

# Extrapolate checkov linearly (per service) from the largest measured size (clean trees).
if [ -n "$checkov" ] && [ -n "${last_checkov:-}" ]; then
    for n in $sizes; do
        if [ -z "${C_T[clean-$n]:-}" ]; then
            C_T[clean-$n]=$(awk -v t="${C_T[clean-$last_checkov]}" -v m="$last_checkov" -v n="$n" 'BEGIN {printf "%.2f", t * n / m}')
            C_X[clean-$n]="~"
        fi
    done
fi

files() { find "$1" -type f ! -name .stamp | wc -l; }
bytes() { find "$1" -type f ! -name .stamp -printf '%s\n' | awk '{s += $1} END {print s}'; }

printf '| %5s | %8s | %7s | %8s | %10s | %9s | %8s | %11s | %9s | %9s | %11s |\n' \
    case services files MB "pipefix s" "floor s" "÷ floor" "checkov s" "× faster" "peak MB" "growth t/m"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------- ---------: --------: ---------: -----------: ----------: ---------: ------------: ----------: ----------: ------------:
for case in $cases; do
    prev=""
    for n in $sizes; do
        k="$case-$n"
        dir=${D[$k]}
        pt=${P_T[$k]} ft=${F_T[$k]} pm=${P_M[$k]}
        ratio=$(awk -v a="$pt" -v b="$ft" 'BEGIN {printf "%.2f", a / b}')
        if [ -n "${C_T[$k]:-}" ]; then
            ct="${C_X[$k]}${C_T[$k]}"
            speed="${C_X[$k]}$(awk -v a="${C_T[$k]}" -v b="$pt" 'BEGIN {printf "%.0f", a / b}')"
        else
            ct="-" speed="-"
        fi
        if [ -n "$prev" ]; then
            growth=$(awk -v a="$pt" -v b="${P_T[$case-$prev]}" -v c="$pm" -v d="${P_M[$case-$prev]}" -v n="$n" -v p="$prev" \
                'BEGIN {printf "%.1f×/%.2f× per %g× N", a / b, c / d, n / p}')
        else
            growth="-"
        fi
        printf '| %5s | %8s | %7s | %8.1f | %10.3f | %9.3f | %8s | %11s | %9s | %9.1f | %11s |\n' \
            "$case" "$n" "$(files "$dir")" "$(awk -v b="$(bytes "$dir")" 'BEGIN {print b / 1e6}')" \
            "$pt" "$ft" "$ratio" "$ct" "$speed" "$(awk -v k="$pm" 'BEGIN {print k / 1024}')" "$growth"
        prev=$n
    done
done

# One file, as a pre-commit hook runs it.
one="$bench/one"
mkdir -p "$one"
src=$(find "$(tree "$(echo "$sizes" | awk '{print $1}')")" -name taskdef.json | sort | sed -n 1p)
cp "$src" "$one/taskdef.json"
echo
if command -v hyperfine > /dev/null; then
    hyperfine -N -i --warmup 10 --runs 100 --style basic "$pipefix --dry-run $one/taskdef.json" 2>&1 |
        grep -E 'Time|Range' | sed 's/^ */one file: /'
else
    read -r ot om < <(measure 50 1 "$pipefix" --dry-run "$one/taskdef.json")
    echo "one file: median $(awk -v t="$ot" 'BEGIN {printf "%.1f", t * 1000}') ms wall (50 runs, process start included; date(1) overhead included), peak $(awk -v k="$om" 'BEGIN {printf "%.1f", k / 1024}') MB"
fi
