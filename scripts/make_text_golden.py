#!/usr/bin/python3
"""Golden outputs for tests/test_text.c, from an independent NumPy implementation.

Writes into tests/text/ (run from the repository root):
  golden_A.txt, golden_B.txt  TF-IDF of corpus.tsv under two configurations (below):
                              "n_docs n_terms", one term per line (byte order), then the
                              dense (n_docs, n_terms) matrix, one row per line, %.9g.
  svd_matrix.npy              a (200, 80) float32 matrix: rank 10 + noise on the non-zeros, ~40% zeros
  svd_golden.txt              its singular values from numpy.linalg.svd (float64), one a line

The rules implemented here follow docs/text.md (the C code is not consulted):
- tokens: maximal runs of [A-Za-z0-9] and bytes >= 0x80, ASCII lower-cased, cut at 64 bytes;
  dropped when shorter than min_len bytes or (when enabled) in the stop-word list.
- categorical fields: "name=" + the value lower-cased with every run of other bytes turned
  into one '_' between kept bytes (none leading or trailing).
- prefixed word fields: "name:" + token; each occurrence adds the field weight to its term.
- df over documents; keep min_df <= df <= max_df * n; max_terms by df desc then bytes;
  ids in byte order; idf = ln((1+n)/(1+df)) + 1 (smooth) or ln(n/df) + 1; tf -> 1 + ln tf
  when sublinear and tf > 1; rows L2-normalised.
Only python3 and numpy are needed.
"""
import math
import os
import re
import sys

import numpy as np

STOP = set("""a about above after again against all am an and any are as at be been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself
yourselves""".split())

TOKEN = re.compile(rb"[A-Za-z0-9\x80-\xff]+")


def lower(b):
    return bytes(c + 32 if 65 <= c <= 90 else c for c in b)


def tokens(text, min_len, stop):
    out = []
    for m in TOKEN.finditer(text):
        t = lower(m.group(0))[:64]
        if len(t) < min_len:
            continue
        if stop and t.decode("latin-1") in STOP:
            continue
        out.append(t)
    return out


def categorical(name, text):
    parts = [lower(m.group(0)) for m in TOKEN.finditer(text)]
    if not parts:
        return None
    return name.encode() + b"=" + b"_".join(parts)[:256]


def tfidf(docs, fields, min_len, stop, min_df, max_df, max_terms, sublinear, smooth):
    """docs: list of lists of bytes cells; fields: (name, weight, categorical, prefixed)."""
    counts = []
    for cells in docs:
        c = {}
        for (name, w, cat, pre), cell in zip(fields, cells):
            if not cell or w == 0:
                continue
            if cat:
                terms = [categorical(name, cell)]
                terms = [t for t in terms if t is not None]
            else:
                terms = tokens(cell, min_len, stop)
                if pre:
                    terms = [name.encode() + b":" + t for t in terms]
            for t in terms:
                c[t] = c.get(t, 0.0) + w
        counts.append(c)
    n = len(docs)
    df = {}
    for c in counts:
        for t in c:
            df[t] = df.get(t, 0) + 1
    kept = [t for t, d in df.items() if d >= min_df and d <= max_df * n + 1e-9]
    if max_terms and len(kept) > max_terms:
        kept.sort(key=lambda t: (-df[t], t))
        kept = kept[:max_terms]
    kept.sort()
    col = {t: i for i, t in enumerate(kept)}
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1 if smooth else math.log(n / df[t]) + 1
                    for t in kept])
    x = np.zeros((n, len(kept)))
    for i, c in enumerate(counts):
        for t, v in c.items():
            if t in col:
                x[i, col[t]] = (1 + math.log(v)) if (sublinear and v > 1) else v
    x *= idf[None, :]
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1
    return kept, x / norms[:, None]


def write_golden(path, terms, x):
    with open(path, "w") as f:
        f.write("%d %d\n" % x.shape)
        for t in terms:
            f.write(t.decode("utf-8", "surrogateescape") + "\n")
        for row in x:
            f.write(" ".join("%.9g" % v for v in row) + "\n")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/text"
    with open(os.path.join(root, "corpus.tsv"), "rb") as f:
        docs = [line.rstrip(b"\n").split(b"\t") for line in f if line.strip()]
    # configuration A (see test_tfidf_golden in tests/test_text.c)
    fa = [("type", 1.0, True, False), ("colour", 0.5, True, False), ("desc", 1.0, False, False)]
    terms, x = tfidf(docs, fa, min_len=2, stop=True, min_df=2, max_df=1.0, max_terms=0,
                     sublinear=True, smooth=True)
    write_golden(os.path.join(root, "golden_A.txt"), terms, x)
    # configuration B
    fb = [("type", 2.0, False, True), ("colour", 1.0, True, False), ("desc", 1.0, False, True)]
    terms, x = tfidf(docs, fb, min_len=1, stop=False, min_df=1, max_df=0.5, max_terms=20,
                     sublinear=False, smooth=False)
    write_golden(os.path.join(root, "golden_B.txt"), terms, x)

    rng = np.random.default_rng(7)
    n, m, r = 200, 80, 10
    # exactly rank r before the noise: sparse factors give a sparse product (about 40% zeros)
    u = rng.standard_normal((n, r)) * (rng.random((n, r)) < 0.3)
    v = rng.standard_normal((r, m)) * (rng.random((r, m)) < 0.3)
    a = u @ np.diag(np.linspace(10, 3, r)) @ v
    a += 0.01 * rng.standard_normal((n, m)) * (a != 0)
    a = a.astype(np.float32)
    np.save(os.path.join(root, "svd_matrix.npy"), a)
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    with open(os.path.join(root, "svd_golden.txt"), "w") as f:
        for v in s:
            f.write("%.17g\n" % v)


if __name__ == "__main__":
    main()
