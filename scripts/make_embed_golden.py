#!/usr/bin/python3
"""Golden data for tests/test_embed.c: an independent NumPy reference of the CLIP image
encoder (Hugging Face CLIPVisionModel + visual_projection semantics) and of CLIP's
preprocessing done with PIL (torchvision's Resize(size, BICUBIC) + CenterCrop + ToTensor
+ Normalize on a PIL image).

Writes into tests/embed/ (deterministic, seed fixed):
  tiny.safetensors    random-weight model: 2 layers, width 64, 4 heads (in __metadata__),
                      patch 16, image 64, projection 512; some tensors float16, plus an
                      ignored text_model.* tensor and an ignored int64 position_ids buffer
  img_*.jpg / *.png   small test images (RGB JPEG, grayscale JPEG, RGB PNG, RGBA PNG)
  pre64.npy           (n_images, 3*64*64) float32: PIL-preprocessed pixels, CHW
  emb.npy             (n_images, 512) float32: reference embeddings of pre64 (float64 math)
  emb_gelu.npy        the same with the exact erf GELU instead of quick_gelu
  crop224.u8          (224, 224, 3) uint8: img_big.jpg resized + centre-cropped by PIL at 224
  pre224_head.npy     (1, 3*224*224 first 4096 values) float32: normalised values at 224
  images.txt          the image order used for pre64.npy / emb.npy

Run from the repository root:  /usr/bin/python3 scripts/make_embed_golden.py
Needs python3-numpy and python3-pil (Debian packages), nothing else.
"""
import json
import math
import os
import struct
import sys

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "embed")
MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
STD = np.array([0.26862954, 0.26130258, 0.27577711])

# ---- CLIP preprocessing with PIL (the reference) --------------------------------------


def preprocess_pil_crop(path, size):
    """Resize the shorter side to `size` (bicubic), centre crop size x size: uint8 HWC."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    # torchvision _compute_resized_output_size: the longer side is truncated by int()
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    im = im.resize((nw, nh), Image.BICUBIC)
    # torchvision center_crop: offsets int(round(d / 2.0)) (round half to even)
    top = int(round((nh - size) / 2.0))
    left = int(round((nw - size) / 2.0))
    im = im.crop((left, top, left + size, top + size))
    return np.asarray(im, dtype=np.uint8)


def preprocess(path, size):
    a = preprocess_pil_crop(path, size).astype(np.float64) / 255.0
    a = (a - MEAN) / STD
    return a.transpose(2, 0, 1).astype(np.float32)  # (3, size, size)


# ---- the vision transformer in NumPy (float64) ------------------------------------------


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def forward(W, cfg, pixels, act="quick_gelu"):
    """pixels (3, S, S) -> (512,) L2-normalised embedding."""
    P, D, H, L = cfg["patch"], cfg["width"], cfg["heads"], cfg["layers"]
    S = pixels.shape[1]
    g = S // P
    px = pixels.astype(np.float64)
    # patch conv, stride P, no bias: patches in row-major grid order
    patches = px.reshape(3, g, P, g, P).transpose(1, 3, 0, 2, 4).reshape(g * g, 3 * P * P)
    conv = W["vision_model.embeddings.patch_embedding.weight"].reshape(D, 3 * P * P)
    x = patches @ conv.T  # (g*g, D)
    x = np.concatenate([W["vision_model.embeddings.class_embedding"][None, :], x], 0)
    x = x + W["vision_model.embeddings.position_embedding.weight"]
    x = layer_norm(x, W["vision_model.pre_layrnorm.weight"], W["vision_model.pre_layrnorm.bias"])
    T = x.shape[0]
    hd = D // H
    for i in range(L):
        p = "vision_model.encoder.layers.%d." % i
        h = layer_norm(x, W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]) * hd ** -0.5
        k = h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]
        v = h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]
        q = q.reshape(T, H, hd).transpose(1, 0, 2)
        k = k.reshape(T, H, hd).transpose(1, 0, 2)
        v = v.reshape(T, H, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1)  # (H, T, T)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(T, D)
        a = a @ W[p + "self_attn.out_proj.weight"].T + W[p + "self_attn.out_proj.bias"]
        x = x + a
        h = layer_norm(x, W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"])
        h = h @ W[p + "mlp.fc1.weight"].T + W[p + "mlp.fc1.bias"]
        if act == "quick_gelu":
            h = h * (1.0 / (1.0 + np.exp(-1.702 * h)))
        else:  # exact GELU, x * Phi(x)
            h = 0.5 * h * (1.0 + np.vectorize(math.erf)(h / math.sqrt(2.0)))
        h = h @ W[p + "mlp.fc2.weight"].T + W[p + "mlp.fc2.bias"]
        x = x + h
    c = layer_norm(x[0], W["vision_model.post_layernorm.weight"], W["vision_model.post_layernorm.bias"])
    e = W["visual_projection.weight"] @ c
    return e / np.linalg.norm(e)


# ---- safetensors writer ------------------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, ndarray) in file order."""
    header = {"__metadata__": metadata}
    off = 0
    blobs = []
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    for name, a in tensors:
        a = np.ascontiguousarray(a)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_model(rng, cfg):
    D, P, L, S = cfg["width"], cfg["patch"], cfg["layers"], cfg["image"]
    M = 4 * D
    T = (S // P) ** 2 + 1
    f16 = {"vision_model.embeddings.patch_embedding.weight", "vision_model.encoder.layers.1.mlp.fc1.weight",
           "visual_projection.weight", "vision_model.encoder.layers.0.layer_norm2.bias"}
    t = []

    def add(name, a):
        a = np.asarray(a, dtype=np.float32)
        if name in f16:
            a = a.astype(np.float16)
        t.append((name, a))

    def lin(name, o, i):
        add(name + ".weight", rng.standard_normal((o, i)) / np.sqrt(i))
        add(name + ".bias", 0.1 * rng.standard_normal(o))

    def ln(name):
        add(name + ".weight", 1.0 + 0.1 * rng.standard_normal(D))
        add(name + ".bias", 0.1 * rng.standard_normal(D))

    # unrelated tensors that a CLIPModel checkpoint also holds: ignored by the loader
    t.append(("text_model.embeddings.token_embedding.weight", rng.standard_normal((8, 4)).astype(np.float32)))
    t.append(("vision_model.embeddings.position_ids", np.arange(T, dtype=np.int64)[None, :]))
    add("vision_model.embeddings.class_embedding", 0.5 * rng.standard_normal(D))
    add("vision_model.embeddings.patch_embedding.weight", rng.standard_normal((D, 3, P, P)) / np.sqrt(3 * P * P))
    add("vision_model.embeddings.position_embedding.weight", 0.3 * rng.standard_normal((T, D)))
    ln("vision_model.pre_layrnorm")
    for i in range(L):
        p = "vision_model.encoder.layers.%d." % i
        for n in ("q", "k", "v", "out"):
            lin(p + "self_attn.%s_proj" % n, D, D)
        ln(p + "layer_norm1")
        lin(p + "mlp.fc1", M, D)
        lin(p + "mlp.fc2", D, M)
        ln(p + "layer_norm2")
    ln("vision_model.post_layernorm")
    add("visual_projection.weight", rng.standard_normal((512, D)) / np.sqrt(D))
    return t


def make_images(rng):
    """Smooth pictures with some texture (so bicubic ringing and clipping are exercised)."""
    def picture(w, h, seed):
        r = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        img = np.zeros((h, w, 3))
        for c in range(3):
            img[..., c] = 128 + 100 * np.sin(xx / (3 + 4 * r.random()) + c) * np.cos(yy / (5 + 3 * r.random()))
        img += 30 * r.standard_normal((h, w, 3))
        img[h // 3:h // 2, w // 4:w // 2] = [250, 10, 10]  # a sharp block
        return np.clip(img, 0, 255).astype(np.uint8)

    names = []
    Image.fromarray(picture(80, 60, 1)).save(os.path.join(OUT, "img_rgb.jpg"), quality=90)
    names.append("img_rgb.jpg")
    Image.fromarray(picture(60, 90, 2)).save(os.path.join(OUT, "img_rgb.png"))
    names.append("img_rgb.png")
    Image.fromarray(picture(70, 70, 3)[..., 0]).save(os.path.join(OUT, "img_gray.jpg"), quality=85)
    names.append("img_gray.jpg")
    rgba = np.concatenate([picture(50, 75, 4), np.full((75, 50, 1), 128, np.uint8)], 2)
    Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "img_rgba.png"))
    names.append("img_rgba.png")
    # portrait like the H&M photos (1166 x 1750), shrunk: downscale with antialiasing
    Image.fromarray(picture(233, 350, 5)).save(os.path.join(OUT, "img_big.jpg"), quality=92)
    names.append("img_big.jpg")
    return names


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    cfg = {"layers": 2, "width": 64, "heads": 4, "patch": 16, "image": 64}
    tensors = make_model(rng, cfg)
    write_safetensors(os.path.join(OUT, "tiny.safetensors"), tensors,
                      {"format": "pt", "num_attention_heads": "4"})
    W = {n: a.astype(np.float64) for n, a in tensors}
    names = make_images(rng)
    pre = np.stack([preprocess(os.path.join(OUT, n), 64).reshape(-1) for n in names])
    np.save(os.path.join(OUT, "pre64.npy"), pre.astype(np.float32))
    emb = np.stack([forward(W, cfg, p.reshape(3, 64, 64)) for p in pre])
    np.save(os.path.join(OUT, "emb.npy"), emb.astype(np.float32))
    emb = np.stack([forward(W, cfg, p.reshape(3, 64, 64), "gelu") for p in pre])
    np.save(os.path.join(OUT, "emb_gelu.npy"), emb.astype(np.float32))
    crop = preprocess_pil_crop(os.path.join(OUT, "img_big.jpg"), 224)
    crop.tofile(os.path.join(OUT, "crop224.u8"))
    p224 = preprocess(os.path.join(OUT, "img_big.jpg"), 224).reshape(-1)
    np.save(os.path.join(OUT, "pre224_head.npy"), p224[:4096][None, :].astype(np.float32))
    with open(os.path.join(OUT, "images.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print("wrote %d images, model, golden data to %s" % (len(names), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
