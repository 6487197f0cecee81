#!/bin/sh
# pipefix-pr.sh: run `pipefix --apply` on a repository and keep ONE pull request with the
# fixes up to date, on a stable branch (pipefix/fixes by default).
#
#   pipefix-pr.sh [PATH...]        (run from the repository's root; PATHs default to .)
#
# Each run starts the branch afresh from the base branch, applies the fixes and commits them
# as one commit whose message lists the fix ids. Nothing is pushed when the result is what the
# branch already holds (or when there is nothing to fix); otherwise the branch is
# force-pushed (with a lease) and the pull request is opened, or its body updated, with `gh`.
# The body is pipefix's markdown: its hidden `<!-- pipefix:v1 ... -->` marker carries the fix
# ids and a digest of the input files.
#
# Settings (environment):
#   PIPEFIX            the pipefix command (default: pipefix)
#   PIPEFIX_BRANCH     the bot's branch (default: pipefix/fixes)
#   PIPEFIX_BASE       the branch to fix and target (default: the remote's HEAD, else the current branch)
#   PIPEFIX_REMOTE     the remote (default: origin)
#   PIPEFIX_ARGS       extra pipefix options, e.g. "--select CP,TD" (word-split)
#   PIPEFIX_PR_TITLE   the pull request title
#   PIPEFIX_BODY_FILE  where to write the pull request body (default: a temporary file)
#   PIPEFIX_NO_PR=1    push the branch but do not call gh
#   PIPEFIX_GIT_NAME, PIPEFIX_GIT_EMAIL   the commit's author
# Exit status: 0 done (pushed or nothing to do), 2 pipefix, git or gh failed. When the gh
# call fails, the branch is put back as it was before the push, so that the next run pushes
# again and retries the call instead of finding the fixes already there.
set -eu

pipefix=${PIPEFIX:-pipefix}
branch=${PIPEFIX_BRANCH:-pipefix/fixes}
remote=${PIPEFIX_REMOTE:-origin}
title=${PIPEFIX_PR_TITLE:-"pipefix: safer pipeline configuration"}
name=${PIPEFIX_GIT_NAME:-pipefix-bot}
email=${PIPEFIX_GIT_EMAIL:-pipefix-bot@users.noreply.github.com}

say() { printf 'pipefix-pr: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "not inside a git work tree"
if ! git diff --quiet || ! git diff --cached --quiet; then
    die "the work tree has uncommitted changes; commit or stash them first"
fi

base=${PIPEFIX_BASE:-}
if [ -z "$base" ]; then
    base=$(git symbolic-ref --quiet --short "refs/remotes/$remote/HEAD" 2>/dev/null || true)
    base=${base#"$remote/"}
fi
if [ -z "$base" ]; then
    base=$(git rev-parse --abbrev-ref HEAD)
fi
[ "$base" != "HEAD" ] || die "detached HEAD: set PIPEFIX_BASE to the branch to fix"
[ "$base" != "$branch" ] || die "the base branch cannot be the bot's branch ($branch)"

body=${PIPEFIX_BODY_FILE:-}
tmp_body=""
if [ -z "$body" ]; then
    body=$(mktemp)
    tmp_body=$body
fi
msg=$(mktemp)

start=$(git symbolic-ref --quiet --short HEAD 2>/dev/null || git rev-parse HEAD)
on_bot_branch=0
cleanup() {
    if [ "$on_bot_branch" = 1 ]; then
        git reset --quiet --hard
        git checkout --quiet "$start"
    fi
    rm -f "$msg"
    [ -z "$tmp_body" ] || rm -f "$tmp_body"
}
trap cleanup EXIT

git fetch --quiet "$remote" "+refs/heads/$base:refs/remotes/$remote/$base" ||
    die "cannot fetch $base from $remote"
lease=""
if git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1; then
    git fetch --quiet "$remote" "+refs/heads/$branch:refs/remotes/$remote/$branch" ||
        die "cannot fetch $branch from $remote"
    lease=$(git rev-parse "refs/remotes/$remote/$branch")
fi

git checkout --quiet -B "$branch" "refs/remotes/$remote/$base"
on_bot_branch=1

set +e
# shellcheck disable=SC2086 # PIPEFIX_ARGS is a list of options on purpose.
"$pipefix" --apply --format markdown ${PIPEFIX_ARGS:-} "$@" >"$body"
code=$?
set -e
[ "$code" -le 1 ] || die "pipefix failed (exit $code); nothing pushed"

if git diff --quiet; then
    say "nothing to fix on $base; nothing pushed"
    exit 0
fi

ids=$(sed -n 's/^<!-- pipefix:v1 fixes=\([^ ]*\) .*/\1/p' "$body" | head -n 1)
marker=$(grep -m 1 '^<!-- pipefix:v1 ' "$body" || true)
{
    printf 'pipefix: fix %s\n\n' "$(printf '%s' "$ids" | sed 's/,/, /g')"
    printf 'Applied by `pipefix --apply` on %s: %s.\n\n%s\n' "$base" "$ids" "$marker"
} >"$msg"
git add --update
git -c user.name="$name" -c user.email="$email" -c commit.gpgsign=false \
    commit --quiet --file "$msg"

if [ -n "$lease" ] && [ "$(git rev-parse 'HEAD^{tree}')" = "$(git rev-parse "$lease^{tree}")" ] &&
    [ "$(git rev-parse HEAD^)" = "$(git rev-parse "$lease^")" ]; then
    say "$branch already holds these fixes; nothing pushed"
    exit 0
fi

git push --quiet --force-with-lease="refs/heads/$branch:$lease" "$remote" "HEAD:refs/heads/$branch" ||
    die "cannot push $branch"
say "pushed $branch ($ids)"

if [ "${PIPEFIX_NO_PR:-}" = 1 ]; then
    exit 0
fi
pushed=$(git rev-parse HEAD)
pr_failed() {
    if [ -n "$lease" ]; then
        git push --quiet --force-with-lease="refs/heads/$branch:$pushed" "$remote" \
            "$lease:refs/heads/$branch" || say "could not put $branch back"
    else
        git push --quiet --force-with-lease="refs/heads/$branch:$pushed" "$remote" \
            ":refs/heads/$branch" || say "could not delete $branch"
    fi
    die "$1; $branch is back as it was, so the next run tries again"
}
number=$(gh pr list --head "$branch" --base "$base" --state open --json number --jq '.[0].number // empty') ||
    pr_failed "gh pr list failed"
if [ -n "$number" ]; then
    gh pr edit "$number" --title "$title" --body-file "$body" || pr_failed "gh pr edit failed"
    say "updated pull request #$number"
else
    gh pr create --head "$branch" --base "$base" --title "$title" --body-file "$body" ||
        pr_failed "gh pr create failed"
    say "opened a pull request"
fi
