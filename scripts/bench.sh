#!/usr/bin/env bash
# Whole-process benchmark of pipefix on synthetic monorepos (see docs/performance.md).
#
#   scripts/bench.sh [--sizes "100 1000 10000"] [--runs 5] [--with-checkov]
#                    [--checkov-max 1000] [--checkov-runs 3]
#
# For each size N it generates (once, cached under target/bench/) a monorepo of N services
# with examples/gen-monorepo.rs, then measures wall time and peak RSS, median of --runs runs
# after one warm-up run, of:
#   pipefix   pipefix --dry-run DIR > /dev/null
#   floor     find DIR -type f -exec cat {} + > /dev/null   (reading the same bytes)
#   checkov   checkov -d DIR (only with --with-checkov, only up to --checkov-max services;
#             bigger sizes are extrapolated linearly and marked with ~)
# and the one-file (pre-commit) case: pipefix --dry-run one/taskdef.json, process start
# included (hyperfine when installed, otherwise repeated runs).
#
# Needs GNU time (/usr/bin/time: `apt-get install time`); --with-checkov installs checkov
# into a virtualenv under target/bench/ with pip.
set -euo pipefail

sizes="100 1000 10000"
runs=5
with_checkov=0
checkov_max=1000
checkov_runs=3
seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --with-checkov) with_checkov=1; shift ;;
        --checkov-max) checkov_max="$2"; shift 2 ;;
        --checkov-runs) checkov_runs="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
tree() {
    local n=$1 dir="$bench/mono-$1"
    if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$gen_sum-$seed" ]; then
        rm -rf "$dir"
        echo "== generating $n services" >&2
        "$gen" --services "$n" --out "$dir" --seed "$seed" >&2
        echo "$gen_sum-$seed" > "$dir/.stamp"
    fi
    echo "$dir"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure RUNS CMD... : prints "median_seconds median_peak_kib"
measure() {
    local n=$1; shift
    local times=() mems=() t0 t1 i
    "$@" > /dev/null 2>&1 || true # warm-up (page cache, binary)
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

declare -A P_T P_M F_T C_T C_X
for n in $sizes; do
    dir=$(tree "$n")
    echo "== N=$n: pipefix" >&2
    read -r P_T[$n] P_M[$n] < <(measure "$runs" "$pipefix" --dry-run "$dir")
    echo "== N=$n: read floor" >&2
    read -r F_T[$n] _ < <(measure "$runs" find "$dir" -type f -exec cat {} +)
    if [ -n "$checkov" ]; then
        if [ "$n" -le "$checkov_max" ]; then
            echo "== N=$n: checkov" >&2
            read -r C_T[$n] _ < <(measure "$checkov_runs" "$checkov" -d "$dir" --quiet --compact --skip-download)
            C_X[$n]=""
            last_checkov=$n
        fi
    fi
done

# Extrapolate checkov linearly (per service) from the largest measured size.
if [ -n "$checkov" ] && [ -n "${last_checkov:-}" ]; then
    for n in $sizes; do
        if [ -z "${C_T[$n]:-}" ]; then
            C_T[$n]=$(awk -v t="${C_T[$last_checkov]}" -v m="$last_checkov" -v n="$n" 'BEGIN {printf "%.2f", t * n / m}')
            C_X[$n]="~"
        fi
    done
fi

files() { find "$1" -type f ! -name .stamp | wc -l; }
bytes() { du -sb --exclude=.stamp "$1" | cut -f1; }

printf '| %8s | %7s | %8s | %10s | %9s | %8s | %11s | %9s | %9s | %11s |\n' \
    services files MB "pipefix s" "floor s" "÷ floor" "checkov s" "× faster" "peak MB" "growth t/m"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------: --------: ---------: -----------: ----------: ---------: ------------: ----------: ----------: ------------:
prev=""
for n in $sizes; do
    dir="$bench/mono-$n"
    pt=${P_T[$n]} ft=${F_T[$n]} pm=${P_M[$n]}
    ratio=$(awk -v a="$pt" -v b="$ft" 'BEGIN {printf "%.2f", a / b}')
    if [ -n "${C_T[$n]:-}" ]; then
        ct="${C_X[$n]}${C_T[$n]}"
        speed="${C_X[$n]}$(awk -v a="${C_T[$n]}" -v b="$pt" 'BEGIN {printf "%.0f", a / b}')"
    else
        ct="-" speed="-"
    fi
    if [ -n "$prev" ]; then
        growth=$(awk -v a="$pt" -v b="${P_T[$prev]}" -v c="$pm" -v d="${P_M[$prev]}" -v n="$n" -v p="$prev" \
            'BEGIN {printf "%.1f×/%.2f× per %g× N", a / b, c / d, n / p}')
    else
        growth="-"
    fi
    printf '| %8s | %7s | %8.1f | %10.3f | %9.3f | %8s | %11s | %9s | %9.1f | %11s |\n' \
        "$n" "$(files "$dir")" "$(awk -v b="$(bytes "$dir")" 'BEGIN {print b / 1e6}')" \
        "$pt" "$ft" "$ratio" "$ct" "$speed" "$(awk -v k="$pm" 'BEGIN {print k / 1024}')" "$growth"
    prev=$n
done

# One file, as a pre-commit hook runs it.
one="$bench/one"
mkdir -p "$one"
src=$(find "$(tree "$(echo "$sizes" | awk '{print $1}')")" -name taskdef.json | sort | head -n1)
cp "$src" "$one/taskdef.json"
echo
if command -v hyperfine > /dev/null; then
    hyperfine -N -i --warmup 10 --runs 100 --style basic "$pipefix --dry-run $one/taskdef.json" 2>&1 |
        grep -E 'Time|Range' | sed 's/^ */one file: /'
else
    read -r ot om < <(measure 50 "$pipefix" --dry-run "$one/taskdef.json")
    echo "one file: median $(awk -v t="$ot" 'BEGIN {printf "%.1f", t * 1000}') ms wall (50 runs, process start included; date(1) overhead included), peak $(awk -v k="$om" 'BEGIN {printf "%.1f", k / 1024}') MB"
fi
