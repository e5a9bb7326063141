#!/usr/bin/env bash
# Developer tool: pack a self-contained GPU check (node + onnxruntime-node + the check script) into .gpu/ so it can be
# run on a machine with an NVIDIA GPU and no network:  bash .gpu/carry/run.sh [base|large]
# The CUDA execution provider libraries are looked for in .gpu/cuda-ep/ (put libonnxruntime_providers_{shared,cuda}.so
# of onnxruntime 1.30 there, e.g. from `npm run gpu:setup` on a connected machine) and in any onnxruntime on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu/stage
C=.gpu/carry
mkdir -p $C
mkdir -p $G/dist $G/node_modules $G/models
npx esbuild scripts/gpu-check.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:onnxruntime-node --outfile=$G/dist/gpu-check.js --log-level=warning
rm -rf $G/node_modules/onnxruntime-node $G/node_modules/onnxruntime-common $G/models/tokenizer
mkdir -p $G/node_modules/onnxruntime-node/bin/napi-v6/linux
cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib $G/node_modules/onnxruntime-node/ 2>/dev/null || true
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 $G/node_modules/onnxruntime-node/bin/napi-v6/linux/
cp -r node_modules/onnxruntime-common $G/node_modules/
cp -r models/tokenizer $G/models/
[ -f $C/node.xz ] || xz -T2 -6 -c "$(command -v node)" > $C/node.xz
tar -C $G -cJf $C/pack.tar.xz dist node_modules models
cat > $C/run.sh <<'RUN'
#!/usr/bin/env bash
set -u
cd "$(dirname "$0")"
[ -d dist ] || tar -xJf pack.tar.xz
[ -x ./node ] || xz -dc node.xz > node && chmod +x node
nvidia-smi -L 2>&1 | head -3
BIN=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
if ls cuda-ep/*.so >/dev/null 2>&1; then cp cuda-ep/*.so $BIN/; fi
echo "--- onnxruntime CUDA provider libraries on this host:"
found=$(find / -xdev -name 'libonnxruntime_providers_cuda.so' -not -path "*/gpu-check/*" 2>/dev/null | head -1); echo "${found:-none}"
if [ -n "$found" ] && [ ! -f $BIN/libonnxruntime_providers_cuda.so ]; then cp "$(dirname "$found")"/libonnxruntime_providers_{shared,cuda}.so $BIN/ && echo "using $(dirname "$found")"; fi
python3 -c "import onnxruntime as o; print('python onnxruntime', o.__version__, o.get_available_providers())" 2>&1 | tail -1
ls $BIN
LD_LIBRARY_PATH="$(python3 -c 'import nvidia,os;print(":".join(os.path.join(p,d,"lib") for p in nvidia.__path__ for d in os.listdir(p)))' 2>/dev/null):${LD_LIBRARY_PATH:-}" \
  ./node dist/gpu-check.js "${1:-base}"
RUN
chmod +x $C/run.sh
du -sh $C
