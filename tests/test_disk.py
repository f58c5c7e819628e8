"""The disk executor's own guarantees (the shared suite in test_semantics.py runs on it too).

Each test uses its own Context with tmpdir=tmp_path, so the files it looks at are its own,
and checks results against a plain-Python reference; counters (ctx.jobs) show *how* the
result was reached: spills, merge passes, which tasks re-ran.
"""

import glob
import operator
import os
import signal
import stat
import threading
import time
from collections import Counter, defaultdict, namedtuple

import pytest

import minimr
from minimr import MinimrError, StorageLevel, TaskContext, spill

pytestmark = pytest.mark.timeout(60)

TEN = [("b", 1), (2, 10), ("a", 2), (2.0, 20), ("b", 3), (None, 5), ((1, "x"), 7),
       (frozenset({1}), 8), ("a", 4), (True, 9)]      # mixed keys: 2 == 2.0, True == 1


Pair = namedtuple("Pair", "a b")


def reference(pairs):
    """{key: [values in input order]}: the plain-Python grouping."""
    out = defaultdict(list)
    for k, v in pairs:
        out[k].append(v)
    return dict(out)


@pytest.fixture
def disk(tmp_path):
    """Make disk Contexts in tmp_path; every one is stopped at the end of the test."""
    made = []

    def make(**kw):
        kw.setdefault("workers", 2)
        kw.setdefault("tmpdir", str(tmp_path))
        c = minimr.Context(executor="disk", **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.stop()


def die_once(where, after=3):
    """A narrow function that kills its own worker process (SIGKILL, no cleanup) in the
    first attempt of partition `where`, after passing `after` records on."""
    def f(split, it):
        for i, x in enumerate(it):
            if split == where and i == after and TaskContext.get().attemptNumber() == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            yield x
    return f


def stages(ctx, kind):
    return [s for s in ctx.jobs[-1]["stages"] if s["kind"].startswith(kind)]


# ------------------------------------------------------------- spill and merge

def test_tiny_buffer_spills_and_merges_in_passes(disk):
    ctx = disk(sort_buffer_bytes=64, merge_factor=2)       # ~1 record a spill; 2 runs a merge
    pairs = ctx.parallelize(TEN, 1)
    ref = reference(TEN)

    assert dict(pairs.reduceByKey(operator.add).collect()) == {k: sum(v) for k, v in ref.items()}
    c = ctx.counters()
    assert c["SPILLS"] >= 5 and c["MERGE_PASSES"] >= 2, c
    assert c["MAP_OUTPUT_RECORDS"] == 10 and c["COMBINE_INPUT_RECORDS"] >= 10
    assert c["REDUCE_INPUT_GROUPS"] == len(ref) == 7

    # groupByKey: no combiner; values of a key keep their input order through the passes
    grouped = {k: list(v) for k, v in pairs.groupByKey(3).collect()}
    assert grouped == ref
    assert ctx.counters()["SPILLED_RECORDS"] >= 10


def test_spilled_records_count_a_shuffles_files_only(disk):
    """SPILLED_RECORDS is Hadoop's: records written to spills and merges; the files of a
    DISK_ONLY partition are not a spill (they count in FILE_BYTES_WRITTEN)."""
    ctx = disk(sort_buffer_bytes=500)
    lines = ctx.parallelize(["to be or not to be", "that is the question"], 2)
    counts = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add, 2)
    counts.collect()
    plain = ctx.counters()
    counts = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add, 2)
    counts.persist(StorageLevel.DISK_ONLY).collect()
    kept = ctx.counters()
    assert kept.get("CACHE_PUTS") == 2 and plain.get("CACHE_PUTS", 0) == 0
    assert kept["SPILLED_RECORDS"] == plain["SPILLED_RECORDS"] > 0
    assert kept["FILE_BYTES_WRITTEN"] > plain["FILE_BYTES_WRITTEN"]


def test_reduce_side_merges_in_passes_and_sorts_keys(disk):
    ctx = disk(sort_buffer_bytes=64, merge_factor=2)
    words = ["to", "be", "or", "not", "to", "be", "that", "is", "the", "question"]
    out = ctx.parallelize(words, 5).map(lambda w: (w, 1)).reduceByKey(operator.add, 1)
    parts = out.glom().collect()
    assert parts == [sorted(Counter(words).items())]      # one reducer: keys in sorted order
    c = ctx.counters()
    assert c["REDUCE_SHUFFLE_BYTES"] > 0 and c["MERGE_PASSES"] >= 2    # 5 runs, 2 at a time


def test_unorderable_keys_across_partitions(disk):
    ctx = disk(sort_buffer_bytes=200)
    pairs = [(k, i) for i, k in enumerate([1, "1", (1,), frozenset({2}), None, 1.0, b"1",
                                           ("a", 2), frozenset({2}), "1", float("inf")] * 3)]
    got = {k: sorted(v) for k, v in ctx.parallelize(pairs, 4).groupByKey(3).collect()}
    assert got == {k: sorted(v) for k, v in reference(pairs).items()}
    assert sorted(map(repr, ctx.parallelize(pairs, 4).keys().distinct().collect())) == \
        sorted(map(repr, set(k for k, _ in pairs)))


def test_records_of_a_class_made_in_the_users_script(disk):
    """A class defined in a function (as in a user's __main__) reaches workers by value;
    its instances still pickle into spills, cache files and results (cloudpickle)."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Cell:
        x: int
        y: int
    ctx = disk(sort_buffer_bytes=100)
    cells = ctx.parallelize(range(40), 3).map(lambda i: (Cell(i % 3, i % 2), i)).persist(StorageLevel.DISK_ONLY)
    got = dict(cells.reduceByKey(operator.add).collect())
    want = Counter()
    for i in range(40):
        want[(i % 3, i % 2)] += i
    assert {(c.x, c.y): v for c, v in got.items()} == dict(want)
    assert cells.count() == 40


def test_sort_key_orders_like_python_where_python_orders():
    import random
    rng = random.Random(0)
    for keys in ([rng.randint(-10**20, 10**20) for _ in range(200)],
                 [rng.random() * 1e6 - 5e5 for _ in range(200)],
                 ["".join(rng.choice("ab\x00é") for _ in range(rng.randint(0, 12))) for _ in range(200)],
                 [(rng.randint(0, 3), rng.choice("xyz")) for _ in range(200)]):
        assert sorted(keys, key=spill.sort_key) == sorted(keys)


def test_spill_recipe_in_process_matches_reference(tmp_path):
    """map_side -> file.out + index -> reduce_side, called directly (no workers), on
    random mixed keys, against a dict; tiny buffers force many spills and merge passes."""
    import random
    from types import SimpleNamespace
    from minimr import task
    from minimr.shuffle import Aggregator, HashPartitioner
    rng = random.Random(1)
    import numpy as np
    from decimal import Decimal
    keys = ["a", "b", "a\x00", "longkey-000001", "longkey-000002", 3, 3.0, -0.0, 0, None,
            (1, "x"), (1,), frozenset({1}), 2.5, 10**30, b"a", True, np.str_("b"), np.int64(3),
            Decimal("2.5"), Pair(1, "x"), ("longkey-000001", 2), complex(3, 0)]
    maps = [[(rng.choice(keys), rng.random()) for _ in range(60)] for _ in range(3)]
    group = Aggregator(lambda v: [v], lambda c, v: c + [v], operator.add)
    for agg, combine in [(None, False), (group, False), (group, True)]:
        task._current.metrics = counters = {}          # what run_task would collect
        try:
            shuffled = SimpleNamespace(partitioner=HashPartitioner(2), aggregator=agg,
                                       map_side_combine=combine)
            outs = []
            for m, recs in enumerate(maps):
                work = tmp_path / f"{agg is None}{combine}-map-{m}"
                work.mkdir()
                spill.map_side(iter(recs), shuffled, str(work), 1000, 3)
                outs.append(str(work / "file.out"))
            got = defaultdict(list)
            for r in range(2):
                segments = [spill.read_index(o)[r] for o in outs]
                work = tmp_path / f"{agg is None}{combine}-reduce-{r}"
                work.mkdir()
                for k, v in spill.reduce_side(segments, shuffled, 2, str(work)):
                    got[k] += v if agg else [v]
        finally:
            task._current.metrics = None
        want = defaultdict(list)
        for recs in maps:
            for k, v in recs:
                want[k].append(v)
        assert got == want, (agg, combine)                  # values in map order, too
        assert counters["spills"] > 3 and counters["merge_passes"] > 0


# ------------------------------------------------------------------ files

def test_keep_files_layout_is_readable(disk, tmp_path, capsys):
    ctx = disk(keep_files=True, sort_buffer_bytes=100)
    counts = ctx.parallelize(["a b a", "c a b"] * 5, 2).flatMap(str.split) \
        .map(lambda w: (w, 1)).reduceByKey(operator.add, 2)
    assert sorted(counts.collect()) == [("a", 15), ("b", 10), ("c", 5)]
    root = ctx._executor.root
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    sid = counts._node.shuffle_id
    m0 = os.path.join(root, f"shuffle-{sid}", "map-00000")
    assert {"file.out", "file.out.index", "spill-0.out", "spill-1.out"} <= set(os.listdir(m0))
    reducers = glob.glob(os.path.join(root, "attempts", "*-part-1-attempt-0", f"reduce-{sid}-1-*"))
    assert len(reducers) == 1 and os.path.exists(os.path.join(reducers[0], "map-00000.seg"))
    spill.dump(os.path.join(m0, "file.out.index"))
    spill.dump(os.path.join(m0, "file.out"))
    shown = capsys.readouterr().out
    assert "partition 1:" in shown and "('a', " in shown
    ctx.stop()
    assert os.path.isdir(root)                    # kept for the learner


def test_temp_dir_removed_on_stop_and_disk_levels_are_files(disk):
    ctx = disk()
    root = ctx._executor.root
    data = ctx.parallelize(range(20), 2).map(lambda x: (x % 3, x)).persist(StorageLevel.DISK_ONLY)
    assert data.count() == 20
    cached = sorted(os.listdir(os.path.join(root, "cache", f"rdd-{data.id()}")))
    assert cached == ["part-00000", "part-00000.index", "part-00001", "part-00001.index"]
    # the next job re-reads and unpickles the files: that is its map input
    assert sorted(data.collect()) == sorted((x % 3, x) for x in range(20))
    assert ctx.counters()["MAP_INPUT_RECORDS"] == 20
    data.unpersist()
    assert not os.path.exists(os.path.join(root, "cache", f"rdd-{data.id()}"))
    pids = [w["pid"] for w in ctx.status()["workers"]]
    ctx.stop()
    assert not os.path.exists(root)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("level", ["MEMORY_ONLY", "MEMORY_ONLY_2", "DISK_ONLY", "MEMORY_AND_DISK"])
def test_only_levels_with_disk_survive_between_jobs(disk, tmp_path, level):
    """Nothing but files survives between jobs: a memory level (cache()) is computed
    again by every job; a level with useDisk is written once and read back."""
    ctx = disk()
    log = tmp_path / "computed"

    def note(x):
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return x * x
    squares = ctx.parallelize(range(10), 2).map(note).persist(getattr(StorageLevel, level))
    for _ in range(3):
        assert squares.sum() == sum(x * x for x in range(10))
    computed = len(log.read_text().split())
    files = os.listdir(os.path.join(ctx._executor.root, "cache"))
    if getattr(StorageLevel, level).useDisk:
        assert computed == 10 and files == [f"rdd-{squares.id()}"]
    else:
        assert computed == 30 and files == []


def test_ctrl_c_leaves_a_usable_context_and_stop_removes_the_dir(disk):
    ctx = disk()
    root = ctx._executor.root

    def interrupt_when_running():             # Ctrl-C once the tasks sleep on the workers
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=interrupt_when_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        ctx.parallelize(range(4), 2).map(lambda x: time.sleep(10) or x).collect()
    assert os.listdir(os.path.join(root, "attempts")) == []     # the killed tasks' scratch
    assert ctx.parallelize(range(4), 2).map(lambda x: x + 1).collect() == [1, 2, 3, 4]
    ctx.stop()
    assert not os.path.exists(root)


# ------------------------------------------------------------------ faults

def test_killed_worker_map_task_reruns_and_partial_spills_are_not_read(disk):
    words = [f"w{i % 7}" for i in range(60)]
    expected = sorted(Counter(words).items())
    ctx = disk(keep_files=True, sort_buffer_bytes=120)
    out = (ctx.parallelize(words, 3).mapPartitionsWithIndex(die_once(1, after=15))
           .map(lambda w: (w, 1)).reduceByKey(operator.add, 2))
    assert sorted(out.collect()) == expected
    [map_stage] = stages(ctx, "map for shuffle")
    assert map_stage["tasks"] == 3 and map_stage["attempts"] == 4      # only map 1 ran twice
    [dead] = glob.glob(os.path.join(ctx._executor.root, "attempts", "*-part-1-attempt-0", "map-00001"))
    assert any(n.startswith("spill-") for n in os.listdir(dead))       # it had spilled
    assert "file.out" not in os.listdir(dead)                          # never committed


def test_killed_worker_result_task_gives_same_output(disk):
    ctx = disk()
    pairs = ctx.parallelize([(i % 5, i) for i in range(50)], 4)
    expected = sorted(pairs.reduceByKey(operator.add, 3).collect())
    out = pairs.reduceByKey(operator.add, 3).mapPartitionsWithIndex(die_once(2, after=0))
    assert sorted(out.collect()) == expected
    [result] = stages(ctx, "result")
    assert result["attempts"] == result["tasks"] + 1
    # the dead attempt's scratch (its fetched segments) is gone; only committed outputs remain
    shuffle_dir = os.path.join(ctx._executor.root, f"shuffle-{out._node.parent.shuffle_id}")
    assert sorted(os.listdir(shuffle_dir)) == [f"map-{m:05d}" for m in range(4)]
    assert os.listdir(os.path.join(ctx._executor.root, "attempts")) == []


def test_a_flipped_bit_in_a_spill_run_is_caught_and_only_that_map_task_reruns(disk, tmp_path):
    """Between a spill and the merge that reads it back, one bit of the run changes on
    disk: the merge checks the run's crc32 before it unpickles a record, the attempt
    fails, and the task's next attempt gives the right answer."""
    words = [f"w{i % 13}" for i in range(400)]
    ctx = disk(sort_buffer_bytes=2000)                     # a spill every ~9 records
    root = ctx._executor.root

    def flip_a_bit_in_the_first_spill(split, it):
        for i, x in enumerate(it):
            if split == 0 and i == 60 and TaskContext.get().attemptNumber() == 0:
                [run] = glob.glob(os.path.join(root, "attempts", "*-part-0-attempt-0",
                                               "map-00000", "spill-0.out"))
                with open(run, "r+b") as f:
                    f.seek(os.path.getsize(run) // 2)
                    b = f.read(1)
                    f.seek(-1, 1)
                    f.write(bytes([b[0] ^ 0x10]))
                (tmp_path / "flipped").write_text(run)
            yield x

    out = (ctx.parallelize(words, 2).mapPartitionsWithIndex(flip_a_bit_in_the_first_spill)
           .map(lambda w: (w, 1)).reduceByKey(operator.add, 2))
    assert sorted(out.collect()) == sorted(Counter(words).items())
    assert (tmp_path / "flipped").exists()
    [map_stage] = stages(ctx, "map for shuffle")
    assert map_stage["tasks"] == 2 and map_stage["attempts"] == 3      # map 0 ran twice
    assert map_stage["spills"] > 2 * 10                                # it did spill and merge


@pytest.mark.parametrize("damage", ["flip a byte", "delete file.out", "garble the index"])
def test_lost_or_corrupt_map_output_reruns_only_that_map_task(disk, damage):
    ctx = disk()
    pairs = ctx.parallelize([(f"k{i % 9}", i) for i in range(90)], 3)
    summed = pairs.reduceByKey(operator.add, 2)
    before = sorted(summed.collect())
    out = os.path.join(ctx._executor.root, f"shuffle-{summed._node.shuffle_id}", "map-00001", "file.out")
    if damage == "flip a byte":
        seg = next(s for s in spill.read_index(out) if s.length)
        with open(out, "r+b") as f:
            f.seek(seg.offset + seg.length // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
    elif damage == "delete file.out":
        os.remove(out)
    else:
        with open(out + ".index", "a") as f:
            f.write("0 0 0 0 0\n")
    assert sorted(summed.collect()) == before
    reruns = stages(ctx, "map for shuffle")
    assert [s["tasks"] for s in reruns] == [1]                         # just map task 1


# -------------------------------------------------------- output commit (io.py)

def test_killed_attempt_leaves_no_part_file(disk, tmp_path):
    ctx = disk()
    path = str(tmp_path / "out")
    ctx.parallelize(range(30), 3).mapPartitionsWithIndex(die_once(1, after=4)).saveAsTextFile(path)
    assert sorted(os.listdir(path)) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    lines = [int(x) for p in sorted(glob.glob(path + "/part-*")) for x in open(p).read().split()]
    assert lines == list(range(30))


def test_failed_job_leaves_no_output(disk, tmp_path):
    ctx = disk(maxFailures=2)
    path = str(tmp_path / "out")

    def boom(x):
        if x == 17:
            raise ValueError("bad record 17")
        return x
    with pytest.raises(ValueError, match="bad record 17"):
        ctx.parallelize(range(30), 3).map(boom).saveAsTextFile(path)
    assert not os.path.exists(path)
    assert stages(ctx, "result")[0]["attempts"] == 3 + 1          # the failing task ran twice


def test_existing_output_dir_is_refused(disk, tmp_path):
    ctx = disk()
    (tmp_path / "out").mkdir()
    with pytest.raises(MinimrError, match="already exists"):
        ctx.parallelize(range(3)).saveAsTextFile(str(tmp_path / "out"))


# ------------------------------------------------------------ the classic form

def test_mapreduce_wordcount_equals_rdd_wordcount(disk, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("the quick brown fox\njumps over the lazy dog\nthe end\n" * 40)
    ctx = disk(sort_buffer_bytes=512)
    lines = ctx.textFile(str(text), 3)

    def mapper(line):
        return [(w, 1) for w in line.split()]

    def reducer(word, counts):
        yield word, sum(counts)
    classic = sorted(minimr.mapreduce(lines, mapper, reducer, combiner=reducer, numReducers=2).collect())
    rdd_form = sorted(lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add).collect())
    assert classic == rdd_form == sorted(Counter(text.read_text().split()).items())
    assert ctx.counters()["MAP_INPUT_RECORDS"] == 120


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(MinimrError, match="sort_buffer_bytes"):
        minimr.Context(executor="disk", sort_buffer_bytes=0)
    with pytest.raises(MinimrError, match="merge_factor"):
        minimr.Context(executor="disk", merge_factor=1)
    with pytest.raises(MinimrError, match="tmpdir"):
        minimr.Context(executor="disk", tmpdir=str(tmp_path / "nope"))
    with pytest.raises(MinimrError, match="unknown options"):
        minimr.Context(executor="disk", sort_buffer_mb=3)
