#!/usr/bin/env bash
# Build a BioHiCL index of PubMed (or of any list of input files) on a Slurm cluster: one setup job, one array job
# with a task per input file, and a finalize job chained with --dependency=afterok. See deploy/README.md.
#
#   deploy/slurm/submit.sh --index s3://bucket/pubmed-2026 --model /shared/models/biohicl-base \
#       --inputs inputs.txt [--gpu] [--parallel 64] [--partition NAME] [--account NAME] [--time 02:00:00]
#
# inputs.txt: one input file per line (absolute paths on a file system every node sees), e.g. the output of
#   biohicl pubmed fetch --out /shared/pubmed && ls /shared/pubmed/*.xml.gz > inputs.txt
# The index is a folder every node sees, or an object store (s3://…; credentials from the AWS_* variables, which
# sbatch passes on). BIOHICL is the command that runs the CLI on the nodes (default: biohicl on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
index="" model="" inputs="" gpu=0 parallel="" extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --index) index="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --inputs) inputs="$2"; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --parallel) parallel="$2"; shift 2 ;;
    --partition|--account|--time|--qos|--mem|--cpus-per-task) extra+=("$1=$2"); shift 2 ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "submit.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$index" && -n "$model" && -n "$inputs" ]] || { echo "submit.sh: --index, --model and --inputs are required (see --help)" >&2; exit 2; }
[[ -f "$inputs" ]] || { echo "submit.sh: input list $inputs not found" >&2; exit 2; }
inputs="$(cd "$(dirname "$inputs")" && pwd)/$(basename "$inputs")"
n=$(grep -cv '^\s*$' "$inputs" || true)
[[ "$n" -gt 0 ]] || { echo "submit.sh: $inputs lists no files" >&2; exit 2; }
while IFS= read -r f; do [[ -z "$f" || -r "$f" ]] || { echo "submit.sh: $inputs names $f, which cannot be read here" >&2; exit 2; }; done < "$inputs"

export BIOHICL_INDEX="$index" BIOHICL_MODEL="$model" BIOHICL_INPUTS="$inputs" BIOHICL="${BIOHICL:-biohicl}"
array_opts=()
if [[ "$gpu" == 1 ]]; then array_opts+=(--gres=gpu:1); export BIOHICL_DEVICE=cuda BIOHICL_PRECISION=fp16; else export BIOHICL_DEVICE=cpu BIOHICL_PRECISION=int8; fi
range="0-$((n - 1))${parallel:+%$parallel}"

setup=$(sbatch --parsable --export=ALL "${extra[@]}" "$here/setup.sbatch")
array=$(sbatch --parsable --export=ALL "${extra[@]}" "${array_opts[@]}" --array="$range" --dependency="afterok:$setup" "$here/array.sbatch")
final=$(sbatch --parsable --export=ALL "${extra[@]}" --dependency="afterok:$array" "$here/finalize.sbatch")
echo "setup $setup"
echo "array $array ($n tasks${parallel:+, at most $parallel at once}${gpu:+$([[ $gpu == 1 ]] && echo ', 1 GPU each')})"
echo "finalize $final"
