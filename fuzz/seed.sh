#!/bin/sh
# seed.sh: fill the fuzzers' seed corpora (fuzz/corpus/<target>/, git-ignored) from the
# real-world files beside the project and from the bundled example. Those files belong to
# their authors: they are copied here at fuzz time and never committed.
#
#   fuzz/seed.sh [SHARED]     SHARED defaults to ../shared beside the project root
#
# JSON texts seed json_document, YAML texts yaml_document, and both run_one_file. Files over
# 64 KiB are left out (libFuzzer's inputs stay small). Running it again replaces the seeds
# it wrote before and keeps whatever the fuzzers added.
set -eu

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
shared=${1:-"$root/../shared"}
[ -d "$shared" ] || { echo "seed.sh: $shared is missing; pass the folder that holds corpus/ and realworld/" >&2; exit 2; }

for t in json_document yaml_document run_one_file; do
    mkdir -p "$fuzz/corpus/$t"
    rm -f "$fuzz/corpus/$t"/seed--*
done

for dir in "$shared/corpus" "$shared/realworld" "$root/examples"; do
    [ -d "$dir" ] || continue
    tag=$(basename "$dir")
    # One line per file; names with a newline are skipped.
    find "$dir" -type f -size -65k \( -name '*.json' -o -name '*.json.template' \
        -o -name '*.yml' -o -name '*.yaml' -o -name '*.log' \) | while IFS= read -r f; do
        rel=${f#"$dir"/}
        name="seed--$tag--$(printf '%s' "$rel" | tr '/' '_')"
        case "$f" in
            *.json | *.json.template) cp "$f" "$fuzz/corpus/json_document/$name" ;;
            *.yml | *.yaml) cp "$f" "$fuzz/corpus/yaml_document/$name" ;;
        esac
        cp "$f" "$fuzz/corpus/run_one_file/$name"
    done
done
for t in json_document yaml_document run_one_file; do
    count=$(find "$fuzz/corpus/$t" -type f -name 'seed--*' | wc -l)
    echo "seed.sh: $t: $count seed file(s) in fuzz/corpus/$t" >&2
done
