#!/usr/bin/env bash
# Speed of the FashionCLIP image encoder (`hmrec embed`) with ViT-B/32 shapes and random
# weights: images/s, the forward pass's GFLOP/s next to the sgemm peak measured in the
# same run, the OpenBLAS kernel, decode + preprocessing time of an H&M-sized photo
# (1166 x 1750 JPEG) and the estimated time for all 105,542 articles.
#
#   bench/bench_embed.sh [hmrec-binary] [batch] [batches]
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
exec flock /tmp/hmrec-bench.lock "$bin" embed --bench --batch "$batch" --bench-batches "$batches" "${image_args[@]}"
