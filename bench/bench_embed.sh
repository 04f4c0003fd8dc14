#!/usr/bin/env bash
# Speed of the FashionCLIP image encoder (`hmrec embed`) with ViT-B/32 shapes and random
# weights: images/s, the forward pass's GFLOP/s next to the sgemm peak measured in the
# same run, the OpenBLAS kernel, decode + preprocessing time of an H&M-sized photo
# (1166 x 1750 JPEG) and the estimated time for all 105,542 articles.
#
#   bench/bench_embed.sh [hmrec-binary] [batch] [batches]
#
# Then, end to end (when python3-numpy is there): `hmrec embed` over E2E_IMAGES (default 256)
# copies of that photo in the H&M folder layout with a random ViT-B/32 safetensors file
# (bench/make_vitb32_random.py, float16): decoding, model, checkpointing and output included.
#
# Runs under flock /tmp/hmrec-bench.lock so that benchmarks on a shared machine do not
# overlap. HMREC_THREADS (default: all CPUs) sets the threads, OpenBLAS's included.
set -euo pipefail
bin=${1:-build/hmrec}
batch=${2:-32}
batches=${3:-5}
photo=${TMPDIR:-/tmp}/hmrec_bench_photo_1166x1750.jpg
image_args=()
if [ ! -s "$photo" ] && /usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null; then
  /usr/bin/python3 - "$photo" <<'PY'
import sys
import numpy as np
from PIL import Image
# a product-photo-like picture: smooth gradient background, a textured object, noise
r = np.random.default_rng(0)
h, w = 1750, 1166
yy, xx = np.mgrid[0:h, 0:w]
img = np.empty((h, w, 3))
img[...] = 235 - 20 * (yy / h)[..., None]
obj = ((xx - w / 2) / 350) ** 2 + ((yy - h / 2) / 600) ** 2 < 1
tex = 120 + 60 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 11.0)[..., None] * np.array([1, 0.6, 0.3])
img[obj] = tex[obj]
img += 6 * r.standard_normal(img.shape)
Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(sys.argv[1], quality=90)
PY
fi
[ -s "$photo" ] && image_args=(--bench-image "$photo")
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')  cpus: $(nproc)"
flock /tmp/hmrec-bench.lock "$bin" embed --bench --batch "$batch" --bench-batches "$batches" "${image_args[@]}"

n=${E2E_IMAGES:-256}
[ -s "$photo" ] || exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$(dirname "$0")/make_vitb32_random.py" "$work/vitb32.safetensors" || exit 0
for i in $(seq 1 "$n"); do
  id=$(printf '%010d' $((500000000 + i)))
  mkdir -p "$work/images/${id:0:3}"
  cp "$photo" "$work/images/${id:0:3}/$id.jpg"
done
# the command's own summary line ("embed: N rows (...) in T s") times the run, lock wait excluded
line=$(flock /tmp/hmrec-bench.lock "$bin" embed --weights "$work/vitb32.safetensors" \
  --images "$work/images" --out "$work/out/emb.npy" --batch "$batch" 2>&1 | grep 'rows (' | tail -n 1)
t=$(echo "$line" | sed -n 's/.* in \([0-9.]*\)s .*/\1/p')
awk -v n="$n" -v t="$t" 'BEGIN {
  printf "end to end: %d images (1166x1750 JPEG) in %.1f s (model loading included): %.2f images/s; 105542 articles: %.2f h\n", n, t, n / t, 105542 / (n / t) / 3600 }'
