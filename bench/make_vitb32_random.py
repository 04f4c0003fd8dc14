#!/usr/bin/python3
"""Writes a ViT-B/32-shaped CLIP vision model with random weights (float16, Hugging Face
tensor names, no heads metadata: the loader's width/64 rule gives 12 heads) for timing
`hmrec embed` end to end.   usage: make_vitb32_random.py OUT.safetensors"""
import json
import struct
import sys

import numpy as np

D, M, L, P, S, E = 768, 3072, 12, 32, 224, 512
T = (S // P) ** 2 + 1
rng = np.random.default_rng(1)
shapes = [("vision_model.embeddings.class_embedding", (D,)),
          ("vision_model.embeddings.patch_embedding.weight", (D, 3, P, P)),
          ("vision_model.embeddings.position_embedding.weight", (T, D)),
          ("vision_model.pre_layrnorm.weight", (D,)), ("vision_model.pre_layrnorm.bias", (D,))]
for i in range(L):
    p = "vision_model.encoder.layers.%d." % i
    for n in "qkv":
        shapes += [(p + "self_attn.%s_proj.weight" % n, (D, D)), (p + "self_attn.%s_proj.bias" % n, (D,))]
    shapes += [(p + "self_attn.out_proj.weight", (D, D)), (p + "self_attn.out_proj.bias", (D,)),
               (p + "layer_norm1.weight", (D,)), (p + "layer_norm1.bias", (D,)),
               (p + "mlp.fc1.weight", (M, D)), (p + "mlp.fc1.bias", (M,)),
               (p + "mlp.fc2.weight", (D, M)), (p + "mlp.fc2.bias", (D,)),
               (p + "layer_norm2.weight", (D,)), (p + "layer_norm2.bias", (D,))]
shapes += [("vision_model.post_layernorm.weight", (D,)), ("vision_model.post_layernorm.bias", (D,)),
           ("visual_projection.weight", (E, D))]
header, off = {}, 0
for name, shape in shapes:
    n = int(np.prod(shape)) * 2
    header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [off, off + n]}
    off += n
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for name, shape in shapes:
        fan_in = shape[-1] if len(shape) == 2 else (3 * P * P if len(shape) == 4 else 1)
        a = rng.standard_normal(shape, dtype=np.float32) / np.sqrt(fan_in)
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or "layrnorm.weight" in name \
                or "post_layernorm.weight" in name:
            a = 1 + 0.1 * a
        f.write(a.astype("<f2").tobytes())
