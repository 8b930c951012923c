#!/usr/bin/env bash
# A rank that throws midway ends the whole job: rank 1 fails after global step
# 5 (GCNN_DEBUG_FAIL, in epoch 2 of 3 steps each), every rank exits (mpirun's
# status is non-zero) with rank 1's message, the checkpoint of epoch 1 is left
# intact, a resume by one process is refused (saved world size 2), and a
# 2-rank resume finishes the run. Commands that run in one process (lr-find,
# cv) refuse a 2-rank launch with one message, from rank 0.
# Usage: rank_failure_and_resume.sh GCNN MPIRUN
set -u
gcnn=$1
mpirun=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/gcnn_rank_failure_XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; echo "--- log"; cat "$dir/log"; exit 1; }

cat > "$dir/tiny.yaml" <<YAML
name: tiny
seed: 7
device: cpu
runs_dir: $dir/runs
data:
  synthetic: {n: 120, size: 16, seed: 3}
  image_size: 16
  batch_size: 16
  val_fraction: 0.2
  workers: 1
model:
  preset: plain_cnn
  channels: [4]
  head: {kind: fastai, hidden: 8}
loss: mse
distributed: {sync_bn: true}
phases:
  - {epochs: 3, lr: 0.02}
YAML
run="$dir/runs/tiny"

GCNN_DEBUG_FAIL=1:5 "$mpirun" -np 2 --oversubscribe "$gcnn" train --config "$dir/tiny.yaml" --no-progress \
  > "$dir/log" 2>&1
status=$?
[ "$status" -ne 0 ] || fail "the job exited 0 although rank 1 failed"
grep -q "error on rank 1 of 2: .*failure injected on rank 1 after global step 5" "$dir/log" ||
  fail "rank 1's message is missing"
[ "$(wc -l < "$run/metrics.csv")" -eq 2 ] || fail "metrics.csv should hold epoch 1 only"
grep -q "^epoch   2/3" "$dir/log" && fail "an epoch after the failure was reported"

"$gcnn" train --resume "$run" --no-progress > "$dir/log" 2>&1 && fail "one process resumed a 2-rank state"
grep -q "saved by a run of 2 rank(s)" "$dir/log" || fail "the world-size message is missing"

"$mpirun" -np 2 --oversubscribe "$gcnn" train --resume "$run" --no-progress > "$dir/log" 2>&1 ||
  fail "the 2-rank resume failed"
grep -q "resuming .* after epoch 1 (step 3)" "$dir/log" || fail "the resume did not start after epoch 1"
[ "$(wc -l < "$run/metrics.csv")" -eq 4 ] || fail "metrics.csv should hold epochs 1-3"
for command in lr-find cv; do
  "$mpirun" -np 2 --oversubscribe "$gcnn" "$command" --config "$dir/tiny.yaml" > "$dir/log" 2>&1 &&
    fail "gcnn $command ran under mpirun -np 2"
  [ "$(grep -c "gcnn $command runs in one process; launch without mpirun" "$dir/log")" -eq 1 ] ||
    fail "gcnn $command: the refusal should be printed once, by rank 0"
done
echo "rank failure and resume: ok"
