#!/usr/bin/python3
"""A straightforward pandas implementation of three recall strategies (repurchase,
popularity, co-purchase), as a Kaggle notebook would write them, for the speed comparison
in bench/bench_recall.sh. Same definitions as src/recall (docs/recall.md), with the
parameters the benchmark also passes to hmrec (recall.window_weeks=8, recall.tau=30,
recall.query_items=20: the library's defaults are 26, 60 and 30, but a pandas self-join over
26 weeks of a full-size data set does not fit in memory):

  repurchase  sum over the customer's rows of exp(-(cutoff - 1 - day) / 30), top 40
  popularity  rows/max + buyers/max + 0.5 * trend/max over the last 7 days, top 60
  co-purchase Jaccard of buyer sets over the 8 weeks before the cutoff (each customer's 50
              most recent distinct items), 30 neighbours per item; a customer's 20 best history
              items vote with weight x similarity; top 60

Reads the transactions of an hmrec store directly (the columns of transactions.hmt via
numpy), so no CSV parsing is timed. Candidates for a random `share` of customers; the item
statistics use every customer, as in the C code.

usage: recall_pandas.py STORE [share=0.1] [seed=1]
prints: key=value lines (load_s, compute_s, customers, rows_out, ...)
"""
import sys
import time

import numpy as np
import pandas as pd


def read_columns(path, names):
    """The named columns of an hmrec table file (format: docs/formats.md)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    head = raw[:192].tobytes()
    assert head[:8] == b"HMRTABLE", path
    n_cols = int.from_bytes(head[56:60], "little")
    types = {1: np.uint8, 2: np.uint16, 3: np.uint32, 4: np.uint64, 5: np.int32, 6: np.float32}
    out = {}
    for i in range(n_cols):
        e = raw[192 + 96 * i: 192 + 96 * (i + 1)].tobytes()
        name = e[:48].split(b"\0")[0].decode()
        if name not in names:
            continue
        typ = int.from_bytes(e[48:52], "little")
        count = int.from_bytes(e[56:64], "little")
        off = int.from_bytes(e[64:72], "little")
        out[name] = np.frombuffer(raw, dtype=types[typ], count=count, offset=off)
    return out


def top_n(df, by, score, n):
    """The n rows of highest score per group (ties: lower article)."""
    df = df.sort_values([by, score, "article"], ascending=[True, False, True])
    return df.groupby(by, sort=False).head(n)


def main():
    store = sys.argv[1]
    share = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    t0 = time.time()
    cols = read_columns(store + "/transactions.hmt", {"day", "customer", "article"})
    tx = pd.DataFrame({"day": cols["day"].astype(np.int32), "customer": cols["customer"],
                       "article": cols["article"]})
    n_customers = int(tx.customer.max()) + 1
    load_s = time.time() - t0

    t1 = time.time()
    cutoff = int(tx.day.max()) - 6
    hist = tx[tx.day < cutoff]
    rng = np.random.default_rng(seed)
    users = np.sort(rng.choice(n_customers, size=int(n_customers * share), replace=False))
    mine = hist[hist.customer.isin(users)].copy()
    # item universe: >= 5 rows before the cutoff
    counts = hist.article.value_counts()
    keep = set(counts[counts >= 5].index)

    # repurchase
    t = time.time()
    mine["w"] = np.exp(-(cutoff - 1 - mine.day) / 30.0)
    rep = mine[mine.article.isin(keep)].groupby(["customer", "article"], as_index=False).w.sum()
    rep = top_n(rep, "customer", "w", 40)
    rep_s = time.time() - t

    # popularity
    t = time.time()
    last = hist[hist.day >= cutoff - 7]
    prev = hist[(hist.day >= cutoff - 28) & (hist.day < cutoff - 7)]
    pop = last.groupby("article").agg(rows=("customer", "size"), buyers=("customer", "nunique"))
    pop["prev"] = prev.groupby("article").size().reindex(pop.index).fillna(0)
    pop = pop[pop.index.isin(keep)]
    pop["trend"] = np.log((pop.rows + 1) / (pop.prev / 3 + 1)).clip(lower=0)
    pop["score"] = (pop.rows / pop.rows.max() + pop.buyers / pop.buyers.max()
                    + 0.5 * pop.trend / max(pop.trend.max(), 1e-30))
    pop = pop.reset_index().sort_values(["score", "article"], ascending=[False, True]).head(60)
    popular = pd.DataFrame({"customer": np.repeat(users, len(pop)),
                            "article": np.tile(pop.article.values, len(users)),
                            "score": np.tile(pop.score.values, len(users))})
    pop_s = time.time() - t

    # co-purchase
    t = time.time()
    win = hist[(hist.day >= cutoff - 56) & hist.article.isin(keep)]
    win = win.iloc[::-1].drop_duplicates(["customer", "article"])  # latest first
    win = win.groupby("customer", sort=False).head(50)[["customer", "article"]]
    deg = win.groupby("article").size().rename("deg")
    pairs = win.merge(win, on="customer", suffixes=("", "_j"))
    pairs = pairs[pairs.article != pairs.article_j]
    both = pairs.groupby(["article", "article_j"]).size().rename("both").reset_index()
    both = both.join(deg, on="article").join(deg.rename("deg_j"), on="article_j")
    both["sim"] = both.both / (both.deg + both.deg_j - both.both)
    nbr = both.sort_values(["article", "sim", "article_j"], ascending=[True, False, True])
    nbr = nbr.groupby("article", sort=False).head(30)[["article", "article_j", "sim"]]
    hw = mine.groupby(["customer", "article"], as_index=False).w.sum()
    hw = hw[hw.article.isin(keep)]
    hw = top_n(hw, "customer", "w", 20)
    votes = hw.merge(nbr, on="article")
    votes["score"] = votes.w * votes.sim
    co = votes.groupby(["customer", "article_j"], as_index=False).score.sum()
    co = co.rename(columns={"article_j": "article"})
    co = top_n(co, "customer", "score", 60)
    co_s = time.time() - t

    # the union (the merge's outer join, without the ranking)
    t = time.time()
    union = pd.concat([rep[["customer", "article"]], popular[["customer", "article"]],
                       co[["customer", "article"]]]).drop_duplicates()
    union_s = time.time() - t
    compute_s = time.time() - t1
    print(f"customers={len(users)} share={share} load_s={load_s:.2f} compute_s={compute_s:.2f} "
          f"repurchase_s={rep_s:.2f} popular_s={pop_s:.2f} copurchase_s={co_s:.2f} union_s={union_s:.2f} "
          f"rows_repurchase={len(rep)} rows_copurchase={len(co)} rows_union={len(union)} "
          f"us_per_customer={1e6 * compute_s / len(users):.1f}")


if __name__ == "__main__":
    main()
