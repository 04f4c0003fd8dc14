#!/usr/bin/env bash
# hmrec embed: help, usage errors, a run over an H&M-style image folder (ids file, missing
# file, .npy shape), and a clear error for a file that is not a safetensors model.
set -eu
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir/images/010" "$dir/images/020"
cp embed/img_rgb.jpg "$dir/images/010/0108775015.jpg"
cp embed/img_big.jpg "$dir/images/020/0200000001.jpg"
printf 'not an image' > "$dir/images/020/0200000002.jpg"
cp embed/img_rgb.jpg "$dir/images/020/0100000001.jpg"   # wrong folder: ignored
grep -q -- '--weights FILE' <<< "$("$bin" embed --help)"
set +e
"$bin" embed --images "$dir/images" 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ]
HMREC_QUIET=1 "$bin" embed --weights embed/tiny.safetensors --images "$dir/images" --out "$dir/out/emb.npy" 2>"$dir/log"
grep -q "article 0200000002 skipped: '.*0200000002.jpg': not a JPEG or PNG image" "$dir/log"
printf '0108775015\n0200000001\n0200000002\n' | cmp - "$dir/out/emb.ids.txt"
[ "$(cut -f1 "$dir/out/emb.missing.txt")" = 0200000002 ]
# .npy: 128-byte header for this shape, 3 rows of 512 float32
[ "$(stat -c %s "$dir/out/emb.npy")" -eq $((128 + 3 * 512 * 4)) ]
head -c 128 "$dir/out/emb.npy" | grep -aq "'shape': (3, 512)"
[ ! -e "$dir/out/emb.npy.partial" ]
# --act and --heads: bad values are usage errors; other values change the embeddings
set +e
"$bin" embed --weights embed/tiny.safetensors --images "$dir/images" --out "$dir/a.npy" --act relu 2>"$dir/err"; rc=$?
set -e
[ "$rc" -eq 2 ]
grep -q -- '--act expects quick_gelu or gelu, found "relu"' "$dir/err"
HMREC_QUIET=1 "$bin" embed --weights embed/tiny.safetensors --images "$dir/images" --out "$dir/g.npy" --act gelu --heads 2 2>/dev/null
[ "$(stat -c %s "$dir/g.npy")" -eq $((128 + 3 * 512 * 4)) ]
if cmp -s "$dir/g.npy" "$dir/out/emb.npy"; then echo "--act gelu gave the same embeddings as the default"; exit 1; fi
# a foreign file as weights
set +e
"$bin" embed --weights embed/img_rgb.jpg --images "$dir/images" --out "$dir/x.npy" 2>"$dir/err"; rc=$?
set -e
[ "$rc" -eq 1 ]
grep -q "error: 'embed/img_rgb.jpg': not a safetensors file: header length" "$dir/err"
echo "embed ok"
