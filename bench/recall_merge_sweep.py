#!/usr/bin/python3
"""Tunes the recall merge (each strategy's list length recall.<s>_n and weight recall.<s>_w,
and recall.merge_k) on a training week, never on the validation week.

1. Runs `hmrec candidates --week W --users buyers --share S` once with every strategy's list
   at its widest (`--wide`, default 200 each) and no pool cap, so the artifact holds, for a
   fixed share S of the week's buyers and every article any strategy proposed, its rank in
   each strategy's list (the whole union of every buyer of the full preset would not fit in
   memory: about 1,000 rows of 80 bytes per buyer).
2. Replays the merge in numpy for any list lengths n_s <= wide and weights w_s: the merged
   score of a row is sum over s with 1 <= rank_s <= n_s of w_s / (merge_k + rank_s), rows
   ordered by it (then more strategies, then the lower article, as src/recall/merge.c), the
   first `pool` kept. The objective is the recall of the pool (share of the week's
   (customer, article) purchase pairs it contains), optionally mixed with the share of a
   reference file's hits (e.g. the synthetic oracle of that training week).
3. Coordinate descent: one strategy's weight, then its list length, over small grids, kept
   when the objective improves; rounds until nothing improves. Prints the best settings as
   `--set` lines and as config-file lines.

usage: recall_merge_sweep.py --bin build/hmrec --store STORE --week 1 [--work DIR]
       [--reference ORACLE.csv] [--oracle-weight 0.5] [--pool 150] [--wide 200]
       [--users-share 0.5] [--set KEY=VALUE ...] [--rounds 3]
The merge replay matches hmrec's own (checked at the end: the script reruns hmrec with the
chosen settings and prints its statistics next to the replayed figure).
"""
import argparse
import os
import struct
import subprocess
import sys

import numpy as np

TYPES = {1: np.uint8, 2: np.uint16, 3: np.uint32, 4: np.uint64, 5: np.int32, 6: np.float32, 7: np.uint8}


def read_table(path):
    """The columns and meta of an hmrec table file (format: docs/formats.md)."""
    b = np.memmap(path, dtype=np.uint8, mode='r')
    hdr = bytes(b[:192])
    if hdr[:8] != b'HMRTABLE':
        sys.exit(f'{path}: not an hmrec table file')
    rows, ncol = struct.unpack('<QI', hdr[48:60])
    meta = struct.unpack('<8Q', hdr[80:144])
    cols = {}
    for i in range(ncol):
        e = bytes(b[192 + 96 * i: 192 + 96 * (i + 1)])
        name = e[:48].split(b'\0')[0].decode()
        typ, esz, n, off, nb = struct.unpack('<IIQQQ', e[48:80])
        a = np.frombuffer(b, dtype=np.uint8, count=nb, offset=off)
        cols[name] = a.reshape(-1, esz) if typ == 7 else a.view(TYPES[typ])
    return cols, meta


def config(binary, sets):
    """The effective settings ("section.key" -> value text) from `hmrec config`."""
    out = subprocess.run([binary, 'config'] + sum([['--set', x] for x in sets], []), capture_output=True,
                         text=True, check=True).stdout
    vals, section = {}, ''
    for line in out.splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
        elif '=' in line:
            k, v = line.split('=', 1)
            vals[f'{section}.{k.strip()}'] = v.strip()
    return vals


def strategies(vals):
    """The strategy names in table order (the recall.<name>_n rows)."""
    return [k[len('recall.'):-2] for k in vals if k.startswith('recall.') and k.endswith('_n')]


class Replay:
    """The artifact of one week's buyers and the truth pairs, ready for fast merges."""

    def __init__(self, cand_path, store, names, reference):
        c, meta = read_table(cand_path)
        self.cutoff = int(meta[0])
        user = np.asarray(c['user'])
        off = np.asarray(c['user_off']).astype(np.int64)
        n_users = len(user)
        keep_u = np.ones(n_users, bool)
        counts = np.diff(off)
        row_user = np.repeat(np.arange(n_users), counts)
        sel = keep_u[row_user]
        self.row_user = row_user[sel]
        self.item = np.asarray(c['item'])[sel]
        self.names = names
        # the artifact's <strategy>_rank columns are in table order, as the recall.<prefix>_n rows
        rank_cols = [x for x in c if x.endswith('_rank')]
        if len(rank_cols) != len(names):
            sys.exit(f'{cand_path}: {len(rank_cols)} strategies, the settings name {len(names)}')
        self.rank = np.stack([np.asarray(c[x])[sel] for x in rank_cols]).astype(np.float32)
        self.users = user[keep_u]
        # truth: the week's distinct (customer, article) pairs of these customers
        tx, _ = read_table(os.path.join(store, 'transactions.hmt'))
        day = np.asarray(tx['day'])
        wk = (day >= self.cutoff) & (day < self.cutoff + 7)
        tc = np.asarray(tx['customer'])[wk].astype(np.int64)
        ta = np.asarray(tx['article'])[wk].astype(np.int64)
        pairs = np.unique(tc << 32 | ta)
        uid = np.full(int(user.max()) + 1 if len(user) else 1, -1, np.int64)
        uid[user] = np.arange(n_users)
        pu = uid[np.minimum(pairs >> 32, len(uid) - 1)]
        ok = (pu >= 0) & (pairs >> 32 < len(uid))
        ok &= keep_u[np.maximum(pu, 0)]
        self.truth_pairs = int(ok.sum())
        row_key = self.row_user_orig(user) << 32 | self.item.astype(np.int64)
        self.is_truth = np.isin(row_key, pairs)
        self.is_ref_hit = None
        self.ref_hits = 0
        if reference:
            self.load_reference(reference, store, user, keep_u, pairs)

    def row_user_orig(self, user):
        return user[self.row_user].astype(np.int64)

    def load_reference(self, path, store, user, keep_u, pairs):
        cu, _ = read_table(os.path.join(store, 'customers.hmt'))
        ar, _ = read_table(os.path.join(store, 'articles.hmt'))
        ids = np.asarray(cu['customer_id'])
        hexid = {bytes(r).hex(): i for i, r in enumerate(ids)}
        aid = {int(a): i for i, a in enumerate(np.asarray(ar['article_id']))}
        in_set = np.zeros(len(ids), bool)
        in_set[user[keep_u]] = True
        keys = []
        with open(path) as f:
            next(f)
            for line in f:
                cid, pred = line.rstrip('\n').split(',', 1)
                cidx = hexid.get(cid)
                if cidx is None or not in_set[cidx]:
                    continue
                for s in pred.split():
                    a = aid.get(int(s))
                    if a is not None:
                        keys.append(cidx << 32 | a)
        keys = np.unique(np.array(keys, np.int64))
        hits = keys[np.isin(keys, pairs)]
        self.ref_hits = len(hits)
        row_key = self.row_user_orig(user) << 32 | self.item.astype(np.int64)
        self.is_ref_hit = np.isin(row_key, hits)

    def evaluate(self, n, w, merge_k, pool):
        """(recall, share of reference hits) of the pool for list lengths n and weights w."""
        merged = np.zeros(len(self.item), np.float32)
        nstrat = np.zeros(len(self.item), np.int32)
        for s in range(len(self.names)):
            r = self.rank[s]
            m = (r >= 1) & (r <= n[s])
            if w[s] > 0:
                merged[m] += (w[s] / (merge_k + r[m])).astype(np.float32)
            nstrat += m
        live = nstrat > 0
        idx = np.nonzero(live)[0]
        order = np.lexsort((self.item[idx], -nstrat[idx], -merged[idx], self.row_user[idx]))
        idx = idx[order]
        u = self.row_user[idx]
        start = np.r_[0, np.nonzero(np.diff(u))[0] + 1]
        pos = np.arange(len(idx)) - np.repeat(start, np.diff(np.r_[start, len(idx)]))
        inpool = idx[pos < pool]
        rec = self.is_truth[inpool].sum() / max(self.truth_pairs, 1)
        ref = self.is_ref_hit[inpool].sum() / max(self.ref_hits, 1) if self.is_ref_hit is not None else 0.0
        return rec, ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', default='build/hmrec')
    ap.add_argument('--store', required=True)
    ap.add_argument('--week', default='1', help='a training week (1 = the week before the validation week)')
    ap.add_argument('--work', default='/tmp/hmrec_merge_sweep')
    ap.add_argument('--reference')
    ap.add_argument('--oracle-weight', type=float, default=0.0,
                    help='objective = (1 - x) * recall / recall0 + x * reference hit share / share0')
    ap.add_argument('--pool', type=int, default=150)
    ap.add_argument('--wide', type=int, default=200)
    ap.add_argument('--users-share', type=float, default=1.0)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--set', action='append', default=[])
    ap.add_argument('--reuse', action='store_true', help='reuse the artifact of an earlier run')
    ap.add_argument('--start', action='append', default=[],
                    help='KEY=VALUE starting points for the descent (recall.<s>_n, recall.<s>_w, recall.merge_k)')
    a = ap.parse_args()
    if a.week in ('val', 'test'):
        sys.exit('tune on a training week (a number), never on the validation week')
    cur = config(a.bin, a.set)
    names = strategies(cur)
    os.makedirs(a.work, exist_ok=True)
    path = os.path.join(a.work, f'wide_week{a.week}.hmt')
    wide = [f'recall.{s}_n={min(a.wide, 255)}' for s in names if int(cur[f'recall.{s}_n']) > 0]
    if not (a.reuse and os.path.exists(path)):
        cmd = [a.bin, 'candidates', '--store', a.store, '--work', a.work, '--week', a.week, '--users', 'buyers',
               '--out', path, '--share', str(a.users_share)] + sum([['--set', s] for s in a.set + wide + ['recall.pool=10000']], [])
        print('#', ' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True, env=dict(os.environ, HMREC_QUIET='1'), stdout=subprocess.DEVNULL)
    rp = Replay(path, a.store, names, a.reference)
    n = [min(int(cur[f'recall.{s}_n']), a.wide) for s in names]
    w = [float(cur[f'recall.{s}_w']) for s in names]
    k = float(cur['recall.merge_k'])
    for kv in a.start:
        key, val = kv.split('=', 1)
        if key == 'recall.merge_k':
            k = float(val)
        elif key.startswith('recall.') and key[len('recall.'):-2] in names:
            i = names.index(key[len('recall.'):-2])
            if key.endswith('_n'):
                n[i] = min(int(val), a.wide)
            elif key.endswith('_w'):
                w[i] = float(val)
    active = [i for i, s in enumerate(names) if n[i] > 0]
    r0, o0 = rp.evaluate(n, w, k, a.pool)
    print(f'# {len(rp.users)} customers, {rp.truth_pairs} purchase pairs; start: recall {r0:.4f}, reference hits {o0:.4f}')

    def objective(r, o):
        x = a.oracle_weight if rp.is_ref_hit is not None else 0.0
        return (1 - x) * r / max(r0, 1e-9) + x * o / max(o0, 1e-9)

    best = objective(r0, o0)
    best_ro = (r0, o0)
    n_grid = [0, 10, 20, 30, 40, 60, 80, 100, 120, 150, 200]
    w_mult = [0.25, 0.5, 0.75, 1.33, 2, 4]
    k_grid = [5, 10, 20, 40, 60, 100]
    for rnd in range(a.rounds):
        improved = False
        for i in active:
            for kind in ('w', 'n'):
                cands = [w[i] * m for m in w_mult] if kind == 'w' else [x for x in n_grid if x <= a.wide]
                for v in cands:
                    tn, tw = list(n), list(w)
                    if kind == 'w':
                        tw[i] = round(v, 4)
                    else:
                        tn[i] = v
                    r, o = rp.evaluate(tn, tw, k, a.pool)
                    f = objective(r, o)
                    if f > best + 1e-6:
                        best, best_ro, n, w, improved = f, (r, o), tn, tw, True
                        print(f'  round {rnd + 1}: {names[i]}_{kind} = {v:g}: recall {r:.4f}, reference hits {o:.4f}',
                              flush=True)
        for v in k_grid:
            r, o = rp.evaluate(n, w, v, a.pool)
            f = objective(r, o)
            if f > best + 1e-6:
                best, best_ro, k, improved = f, (r, o), v, True
                print(f'  round {rnd + 1}: merge_k = {v:g}: recall {r:.4f}, reference hits {o:.4f}', flush=True)
        if not improved:
            break
    print(f'# best: recall {best_ro[0]:.4f} (start {r0:.4f}), reference hits {best_ro[1]:.4f} (start {o0:.4f})')
    print('# without one strategy (its list length 0, the rest as chosen):')
    for i in active:
        if n[i] == 0:
            continue
        tn = list(n)
        tn[i] = 0
        r, o = rp.evaluate(tn, w, k, a.pool)
        print(f'#   {names[i]:6s} recall {r:.4f} ({r - best_ro[0]:+.4f}), reference hits {o:.4f} ({o - best_ro[1]:+.4f})')
    print(f'recall.merge_k = {k:g}')
    for i in active:
        print(f'recall.{names[i]}_n = {n[i]}')
        print(f'recall.{names[i]}_w = {w[i]:g}')


if __name__ == '__main__':
    main()
