"""PageRank, and what a partitioner buys: the RDD paper's lesson on controlled partitioning.

Every iteration joins the link lists with the current ranks, sends each page's rank to
its neighbours in equal shares, and sums the shares per page (Spark's own pagerank.py):

    links ──join── ranks ──flatMap: (neighbour, rank / out-degree)──► reduceByKey(add)
      ▲              ▲                                                      │
      │              └──────────── mapValues(r -> 0.15 + 0.85 * r) ◄────────┘
    (src, [dst, ...]): grouped once, persisted

    rank(p) <- 0.15 + 0.85 * sum over pages q linking to p of rank(q) / outdegree(q)

with every page that has out-links starting at rank 1.0 (the damping formula of Spark's
example, unnormalised: ranks sum to about the number of pages, not to 1). As in Spark's
example, a page that no page links to drops out after the first iteration, and the rank
a page without out-links receives is not passed on. Duplicate edges count once.

A join is a shuffle of both sides by key, so a plain run moves every link list across
the network in every iteration, though the links never change. With --partitioned the
links are hash-partitioned once into P partitions and persisted, and the ranks are kept
on the same partitioner (mapValues keeps it; reduceByKey(add, P) places by the same
hash): the join then finds both sides already placed and needs no shuffle at all, and
only the contributions move. `toDebugString()` shows it: without --partitioned every
iteration has a shuffle above the links; with it only their first grouping does. The
RDD paper measured 171 s an iteration on Hadoop, 72 s on basic Spark and 23 s on Spark
with controlled partitioning (54 GB of Wikipedia, 30 nodes).

    python -m examples.pagerank --executor memory                # links shuffled every time
    python -m examples.pagerank --executor memory --partitioned  # only the ranks' shares

The links are persisted at --storage-level; on the disk executor a memory level keeps
nothing between jobs, so every iteration rebuilds the links from their first shuffle's
files, as a chain of Hadoop jobs re-reads them. The ranks are not persisted (as in
Spark's example): each iteration's job sums them (its result tasks read the shuffle of
contributions), and the next iteration's map tasks read that shuffle again, joined with
the links in place. The line "shuffled" counts the bytes each iteration's map tasks
wrote to shuffles (the counter MAP_OUTPUT_MATERIALIZED_BYTES; minimr's executors only).

Each line of the input is `src dst` (page names, any tokens without spaces; lines
starting with # are comments, as in SNAP's edge lists). With no --input it generates a
power-law graph of 100,000 edges over 10,000 pages.
"""

import heapq
import sys
import time
from operator import add

import numpy as np

from minimr import StorageLevel

from examples import _common as common

DEFAULT_EDGES, DEFAULT_PAGES = 100_000, 10_000


# -------------------------------------------------------------------------- parsing

def parse_edges(path, numbered_lines):
    """(line, index) pairs -> (src, dst) for every line that is not blank or a comment."""
    for line, index in numbered_lines:
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 2:
            raise ValueError(f"bad input: {path}, line {index + 1}: expected 2 columns "
                             f"(src dst), got {len(fields)}")
        yield fields[0], fields[1]


def distinct_neighbours(dsts):
    """A page's link list: each neighbour once, in the order first seen."""
    return list(dict.fromkeys(dsts))


def contributions(links_and_rank):
    """(neighbours, rank) -> (neighbour, rank / out-degree) for each neighbour."""
    neighbours, rank = links_and_rank
    share = rank / len(neighbours)
    return [(n, share) for n in neighbours]


def damp(r):
    return 0.15 + 0.85 * r


# ------------------------------------------------------------------------- the loop

def edges_rdd(ctx, path, partitions=4):
    """(src, dst) records, one a line of the file."""
    return (ctx.textFile(path, partitions).zipWithIndex()
               .mapPartitions(lambda it: parse_edges(path, it)))


def links_rdd(ctx, path, partitions=4, partitioned=False, level=StorageLevel.MEMORY_ONLY):
    """(src, [dst, ...]) grouped by src into `partitions` partitions. Partitioned: the
    partitioner is kept (mapValues); plain: a map drops it. Persisted at `level`."""
    grouped = edges_rdd(ctx, path, partitions).groupByKey(partitions)
    links = (grouped.mapValues(distinct_neighbours) if partitioned else
             grouped.map(lambda kv: (kv[0], distinct_neighbours(kv[1]))))
    return links if level is None else links.persist(level)


def rank(ctx, path, partitions=4, iterations=10, partitioned=False,
         level=StorageLevel.MEMORY_ONLY, on_iteration=None):
    """The classic loop; returns (ranks RDD, [{"iteration", "seconds", "rank_sum",
    "shuffle_bytes" (minimr's executors)}], links). Each iteration is one job (the sum of
    the new ranks), so it can be timed; its map tasks read the previous iteration's
    shuffle of contributions, joined with the links where they are persisted."""
    links = links_rdd(ctx, path, partitions, partitioned, level)
    ranks = (links.mapValues(lambda _: 1.0) if partitioned else
             links.map(lambda kv: (kv[0], 1.0)))
    history = []
    for i in range(1, iterations + 1):
        start, jobs = time.perf_counter(), len(ctx.jobs)
        contribs = links.join(ranks, partitions).flatMap(lambda kv: contributions(kv[1]))
        ranks = contribs.reduceByKey(add, partitions).mapValues(damp)
        record = {"iteration": i, "rank_sum": ranks.values().sum(),
                  "seconds": time.perf_counter() - start}
        if ctx.sc is None:                   # minimr's counters (Spark's status store may lag)
            record["shuffle_bytes"] = shuffle_written(ctx, range(jobs, len(ctx.jobs)))
        history.append(record)
        if on_iteration:
            on_iteration(record)
    return ranks, history, links


def shuffle_written(ctx, jobs):
    """Bytes the map tasks of these jobs wrote to shuffles: what crossed from map to
    reduce (Hadoop's counter MAP_OUTPUT_MATERIALIZED_BYTES; Spark's shuffle write bytes)."""
    total = 0
    for j in jobs:
        counters = ctx.counters(job=j)
        total += counters.get("MAP_OUTPUT_MATERIALIZED_BYTES",
                              counters.get("SHUFFLE_WRITE_BYTES", 0))
    return total


def top(ranks, n=20):
    """The n highest (page, rank) pairs: rank descending, then page name."""
    return heapq.nsmallest(n, ranks.items(), key=lambda kv: (-kv[1], kv[0]))


# ----------------------------------------------------------------------- default data

def write_graph(f, seed, edges=DEFAULT_EDGES, pages=DEFAULT_PAGES):
    """`src dst` lines: each end of each edge drawn with probability ~ 1/rank over the
    pages, in two independent orders (a few pages link a lot, a few are linked a lot;
    both degree distributions follow a power law, as the Web's do)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, pages + 1)
    src = rng.permutation(pages)[rng.choice(pages, size=edges, p=p / p.sum())]
    dst = rng.permutation(pages)[rng.choice(pages, size=edges, p=p / p.sum())]
    f.write("".join(f"p{s} p{d}\n" for s, d in zip(src.tolist(), dst.tolist())))


def main(argv=None):
    p = common.parser("pagerank", __doc__)
    p.add_argument("--iterations", type=common.positive, default=10,
                   help="iterations, one job each (default: 10)")
    p.add_argument("--partitioned", action="store_true",
                   help="hash-partition the links once and keep the ranks on the same "
                        "partitioner, so only the contributions are shuffled")
    common.storage_level_option(p, "the links are")
    args = p.parse_args(argv)
    level = args.storage_level

    def show(r):
        print(f"iteration {r['iteration']:3d}  {r['seconds']:8.3f} s  rank sum "
              f"{r['rank_sum']:.6f}", flush=True)

    with common.input_file(args.input, write_graph, args.seed) as path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        ranks, history, links = rank(ctx, path, args.partitions, args.iterations,
                                     args.partitioned, getattr(StorageLevel, level, None),
                                     on_iteration=show)
        final = dict(ranks.collect())
        seconds = time.perf_counter() - start
        result = {"pages": len(final), "rank_sum": sum(final.values()), "top": top(final)}
        partitions = ranks.getNumPartitions()

    print(f"pagerank on {common.where(args, partitions)}, storage level {level}"
          f"{', partitioned' if args.partitioned else ''}: {seconds:.2f} s; "
          f"{result['pages']} pages ranked")
    for page, r in result["top"][:5]:
        print(f"rank {r:12.6f}  {page}")
    if "shuffle_bytes" in history[0]:
        later = sorted(r["shuffle_bytes"] for r in history[1:])
        print(f"shuffled: first iteration {history[0]['shuffle_bytes']:,} bytes" +
              (f"; later iterations median {later[len(later) // 2]:,} bytes" if later else ""))
    print(common.summary(history))
    common.write_json(args.json, "pagerank", args, partitions, seconds, result,
                      iterations=history, storage_level=level, partitioned=args.partitioned)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("pagerank", main))
