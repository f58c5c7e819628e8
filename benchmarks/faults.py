"""The fault matrix: fault x executor -> S / CE / F, then seeded chaos.

    python -m benchmarks.faults                  # every row, and 20 chaos seeds per executor
    python -m benchmarks.faults --seeds 3        # fewer chaos seeds
    python -m benchmarks.faults --only stop      # the rows whose name contains "stop"
    python -m benchmarks.faults --only chaos     # the chaos runs alone
    python -m benchmarks.faults --root DIR       # the minimr package in DIR (an older checkout)

Every case runs in a fresh Python process, in a session of its own and with its own
TMPDIR, and is compared with the right answer computed in plain Python:

    S   the right answer (for the rows that cannot succeed: this clear error)
    CE  a clear error: a MinimrError, or the user's own exception with minimr's note
    F   a wrong answer, a hang (no end within the case's time limit), a process or a
        temporary directory left behind, or an unclear error (an OSError from the engine)

A row says which outcome it expects; an outcome other than that is marked `*`. The
faults are made from outside where a program can make them (a function that kills
its worker in its first attempt, a signal from the driver, a damaged file between two
jobs), so the same rows also run against an older minimr; rows that need a setting or
the fault-injection API it lacks are `-` there. Settings an older minimr lacks (e.g.
taskTimeout) are left out there, which is what a user of it would have had.

Chaos: a job of 8 map and 4 reduce tasks of about 0.5 s each on 2 workers, default
settings; during its first 4 s, every 0.5 s, the worker in a slot drawn from
Random(seed) gets SIGKILL (busy then, almost always). The seed fixes the victims'
slots and the kill times, not how the tasks interleave.
"""

import argparse
import inspect
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from operator import add

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))
N = 2000
EXPECTED = sorted(Counter(x % 7 for x in range(N)).items())
ALL, PROCESS = ("serial", "memory", "disk"), ("memory", "disk")
ROWS = []                   # (name, executors, expected outcome, case function, time limit)


class NotHere(Exception):
    """This minimr cannot express the case (a setting or an API it does not have)."""


def row(name, executors=ALL, expect="S", limit=None):
    def add_row(case):
        ROWS.append((name, executors, expect, case, limit))
        return case
    return add_row


# ------------------------------------------------------------- inside a case process

def context(executor, **settings):
    """A Context with the settings this minimr has (the others are left out)."""
    import minimr
    known = inspect.signature(minimr.Context.__init__).parameters
    if "faults" in settings and "faults" not in known:
        raise NotHere("no fault-injection API")
    kw = {k: v for k, v in settings.items() if k in known or k in ("workers", "tmpdir",
                                                                     "maxFailures", "sort_buffer_bytes")}
    if executor != "serial":
        kw.setdefault("workers", 2)
    if executor == "disk":
        kw.setdefault("tmpdir", tempfile.gettempdir())
    return minimr.Context(executor=executor, **kw)


def api():
    try:
        from minimr import faults
    except ImportError:
        raise NotHere("no fault-injection API") from None
    return faults


def first_attempt(partition, action):
    """mapPartitionsWithIndex: do `action` in the first attempt of `partition`."""
    from minimr import TaskContext

    def f(split, it):
        if split == partition and TaskContext.get().attemptNumber() == 0:
            action()
        return it
    return f


def every_attempt(partition, action):
    def f(split, it):
        if split == partition:
            action()
        return it
    return f


def wordcount(ctx, in_map=None, in_reduce=None):
    """The job of most rows: 4 map tasks, 2 reduce tasks; the answer, sorted."""
    data = ctx.parallelize(range(N), 4)
    if in_map:
        data = data.mapPartitionsWithIndex(in_map)
    counts = data.map(lambda x: (x % 7, 1)).reduceByKey(add, 2)
    if in_reduce:
        counts = counts.mapPartitionsWithIndex(in_reduce)
    return sorted(counts.collect())


def kill_self(sig=signal.SIGKILL):
    def kill():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))      # no core file left behind
        os.kill(os.getpid(), sig)
    return kill


def boom():
    raise ValueError("injected")


def flip(path):
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x10]))


def truncate(path):
    os.truncate(path, os.path.getsize(path) // 2)


# ---------------------------------------------------------------- rows: task faults

@row("raise in a map task (first attempt)")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=first_attempt(1, boom))


@row("raise in a reduce task (first attempt)")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_reduce=first_attempt(0, boom))


@row("raise in every attempt", expect="CE")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=every_attempt(1, boom))


@row("worker SIGKILLed in a map task (first attempt)", PROCESS)
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=first_attempt(2, kill_self()))


@row("worker SIGKILLed in a reduce task (first attempt)", PROCESS)
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_reduce=first_attempt(1, kill_self()))


@row("worker SIGKILLed after its shuffle write", PROCESS)
def _(ex):
    with context(ex, faults=[api().kill(stage=0, partition=1, at="after_write")]) as ctx:
        return wordcount(ctx)


@row("worker SIGKILLed during a fetch", PROCESS)
def _(ex):
    with context(ex, faults=[api().kill(stage=1, partition=0, at="fetch")]) as ctx:
        return wordcount(ctx)


@row("worker exits (os._exit) in a map task (first attempt)", PROCESS)
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=first_attempt(0, lambda: os._exit(1)))


@row("task exits (os._exit) in every attempt", PROCESS, expect="CE")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=every_attempt(0, lambda: os._exit(1)))


@row("task SIGSEGVs its worker in every attempt", PROCESS, expect="CE")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=every_attempt(0, kill_self(signal.SIGSEGV)))


@row("task SIGKILLs its worker in every attempt", PROCESS, expect="CE")
def _(ex):
    with context(ex) as ctx:
        return wordcount(ctx, in_map=every_attempt(0, kill_self()))


# ------------------------------------------------------------- rows: hangs, stragglers

@row("a task never returns (first attempt)")
def _(ex):
    with context(ex, taskTimeout=2) as ctx:
        return wordcount(ctx, in_map=first_attempt(3, lambda: time.sleep(10**6)))


@row("a task never returns (every attempt)", expect="CE")
def _(ex):
    with context(ex, taskTimeout=1, maxFailures=2) as ctx:
        return wordcount(ctx, in_map=every_attempt(3, lambda: time.sleep(10**6)))


@row("worker SIGSTOPped in a reduce task", PROCESS)
def _(ex):
    with context(ex, fetchTimeout=2) as ctx:
        return wordcount(ctx, in_reduce=first_attempt(0, kill_self(signal.SIGSTOP)))


@row("worker holding map outputs SIGSTOPped between jobs", PROCESS)
def _(ex):
    with context(ex, fetchTimeout=2) as ctx:
        counts = ctx.parallelize(range(N), 4).map(lambda x: (x % 7, 1)).reduceByKey(add, 2)
        counts.count()
        os.kill(ctx.status()["workers"][0]["pid"], signal.SIGSTOP)
        return sorted(counts.collect())


@row("straggler (30 s in its first attempt): the job does not wait for it", PROCESS)
def _(ex):
    with context(ex, workers=3, speculation=True, speculationMinTaskRuntime=1.0) as ctx:
        start = time.monotonic()
        got = wordcount(ctx, in_map=first_attempt(1, lambda: time.sleep(30)))
        return got if time.monotonic() - start < 25 else ("F", "the straggler held the job")


@row("straggler in a stage that writes files (speculation)", PROCESS)
def _(ex):
    with context(ex, workers=3, speculation=True, speculationMinTaskRuntime=1.0) as ctx:
        out = os.path.join(tempfile.mkdtemp(dir=os.environ["CASE_WORK"]), "out")
        start = time.monotonic()
        (ctx.parallelize(range(N), 4).mapPartitionsWithIndex(first_attempt(2, lambda: time.sleep(30)))
         .map(lambda x: x * 3).saveAsTextFile(out))
        if time.monotonic() - start > 25:
            return ("F", "the straggler held the job")
        names = sorted(os.listdir(out))
        lines = [int(x) for n in names if n.startswith("part-") for x in open(os.path.join(out, n))]
        ok = names == ["_SUCCESS"] + [f"part-{p:05d}" for p in range(4)] and lines == [x * 3 for x in range(N)]
        return ("S", "") if ok else ("F", f"output {names}")


# -------------------------------------------------------------- rows: losing workers

@row("idle worker SIGKILLed between jobs (maxFailures=1)", PROCESS)
def _(ex):
    with context(ex, maxFailures=1) as ctx:
        wordcount(ctx)
        pid = ctx.status()["workers"][1]["pid"]
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        return wordcount(ctx)


@row("worker holding cached blocks SIGKILLed between jobs", ("memory",))
def _(ex):
    with context(ex) as ctx:
        data = ctx.parallelize(range(N), 4).map(lambda x: (x % 7, 1)).cache()
        data.count()
        os.kill(ctx.status()["workers"][0]["pid"], signal.SIGKILL)
        return sorted(data.reduceByKey(add, 2).collect())


@row("replacement worker killed while it starts", PROCESS)
def _(ex):
    with context(ex) as ctx:
        first = {w["pid"] for w in ctx.status()["workers"]}
        done = threading.Event()

        def killer():
            time.sleep(0.3)
            os.kill(min(first), signal.SIGKILL)
            while not done.is_set():
                new = children() - first
                if new:
                    os.kill(new.pop(), signal.SIGKILL)
                    return
        t = threading.Thread(target=killer)
        t.start()
        try:
            got = wordcount(ctx, in_map=lambda s, it: (time.sleep(0.5), it)[1])
        finally:
            done.set()
            t.join()
        return got if wordcount(ctx) == got else ("F", "the next job differs")


@row("Ctrl-C mid-job, then the next job", PROCESS)
def _(ex):
    with context(ex) as ctx:
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            ctx.parallelize(range(4), 2).map(lambda x: time.sleep(10)).collect()
            return ("F", "not interrupted")
        except KeyboardInterrupt:
            return wordcount(ctx)


@row("crash test (6.5840): exit 1/3, sleep 1/3; maxFailures=50, taskTimeout=3", PROCESS,
     limit=900)     # memory: every crash loses the map outputs in that worker's RAM
def _(ex):
    crash = crashing(6.0)
    with context(ex, maxFailures=50, taskTimeout=3) as ctx:
        got = (ctx.parallelize(range(N), 8).mapPartitionsWithIndex(crash).map(lambda x: (x % 7, 1))
               .reduceByKey(add, 4).mapPartitionsWithIndex(crash).collect())
        return sorted(got)


# ---------------------------------------------------------------- rows: damaged data

def disk_root(ctx):
    return ctx.status()["tmpdir"]


for _how, _damage in [("flip a byte", flip), ("truncate", truncate), ("delete", os.remove)]:
    @row(f"map output file.out: {_how}", ("disk",))
    def _(ex, damage=_damage):
        with context(ex) as ctx:
            counts = ctx.parallelize(range(N), 4).map(lambda x: (x % 7, 1)).reduceByKey(add, 2)
            counts.count()
            damage(os.path.join(disk_root(ctx), f"shuffle-{counts._node.shuffle_id}", "map-00001",
                                "file.out"))
            return sorted(counts.collect())

    @row(f"spill run before the merge: {_how}", ("disk",))
    def _(ex, damage=_damage):
        import glob
        with context(ex, sort_buffer_bytes=2000) as ctx:
            root = disk_root(ctx)

            def damage_run(split, it):
                from minimr import TaskContext
                for i, x in enumerate(it):
                    if split == 0 and i == N // 8 and TaskContext.get().attemptNumber() == 0:
                        runs = glob.glob(os.path.join(root, "**", "map-00000*", "spill-0.out"), recursive=True)
                        damage(runs[0])
                    yield x
            return wordcount(ctx, in_map=damage_run)

    @row(f"cached partition file (DISK_ONLY): {_how}", ("disk",))
    def _(ex, damage=_damage):
        from minimr import StorageLevel
        with context(ex) as ctx:
            data = ctx.parallelize(range(5000), 4).map(lambda x: x * x).persist(StorageLevel.DISK_ONLY)
            data.count()
            damage(os.path.join(disk_root(ctx), "cache", f"rdd-{data.id()}", "part-00001"))
            got = (data.count(), data.sum())
            return ("S", "") if got == (5000, sum(x * x for x in range(5000))) else ("F", f"got {got}")


@row("cached partition file (DISK_ONLY): truncated at a batch boundary", ("disk",))
def _(ex):
    from minimr import StorageLevel
    faults = api()
    with context(ex) as ctx:
        data = ctx.parallelize(range(5000), 4).map(lambda x: x * x).persist(StorageLevel.DISK_ONLY)
        data.count()
        faults.damage_file(faults.cache_file(ctx, data, 1), "truncate")
        got = (data.count(), data.sum())
        return ("S", "") if got == (5000, sum(x * x for x in range(5000))) else ("F", f"got {got}")


@row("map output deleted from a worker's memory", ("serial", "memory"))
def _(ex):
    with context(ex, faults=[api().damage("delete", stage=0, partition=2)]) as ctx:
        return wordcount(ctx)


@row("cached block evicted", ("serial", "memory"))
def _(ex):
    faults = api()
    with context(ex) as ctx:
        data = ctx.parallelize(range(N), 4).map(lambda x: (x % 7, 1)).cache()
        data.count()
        faults.evict(ctx, data, 2)
        return sorted(data.reduceByKey(add, 2).collect())


@row("disk full (a file size limit in the workers)", ("disk",), expect="CE")
def _(ex):
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    with context(ex, maxFailures=2) as ctx:
        return ctx.parallelize(range(N * 20), 4).map(lambda x: (x, "y" * 50)).reduceByKey(add, 2).count()


# ------------------------------------------------------- rows: security, the driver dies

@row("a pickle sent to the fetch server", ("memory",))
def _(ex):
    from multiprocessing.connection import Client
    marker = os.path.join(os.environ["CASE_WORK"], "pwned")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    with context(ex) as ctx:
        wordcount(ctx)
        workdir = getattr(ctx._executor, "dir", None) or ctx._executor.tmpdir     # (older: tmpdir)
        socks = [os.path.join(d, f) for d, _, fs in os.walk(workdir) for f in fs if f.endswith(".sock")]
        try:
            conn = Client(socks[0], family="AF_UNIX")
            conn.send(Evil())
            conn.poll(1)
        except Exception:
            pass
        time.sleep(0.5)
        return ("F", "the pickle ran in a worker") if os.path.exists(marker) else ("S", "")


DRIVER = """
    import json, sys, time, minimr
    kw = {"tmpdir": sys.argv[2]} if sys.argv[1] == "disk" else {}
    ctx = minimr.Context(executor=sys.argv[1], workers=2, **kw)
    print(json.dumps([w["pid"] for w in ctx.status()["workers"]]), flush=True)
    ctx.parallelize(range(2), 2).foreach(lambda x: TASK)
"""

for _sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
    for _task, _code in [("a task holds the GIL", "sum(range(3 * 10**9))"), ("a task sleeps", "time.sleep(60)")]:
        @row(f"driver {signal.Signals(_sig).name}ed mid-job, {_task}", PROCESS)
        def _(ex, sig=_sig, code=_code):
            import minimr
            work = os.environ["CASE_WORK"]
            script = os.path.join(work, "driver.py")
            with open(script, "w") as f:
                f.write(textwrap.dedent(DRIVER).replace("TASK", code))
            proc = subprocess.Popen([sys.executable, script, ex, tempfile.gettempdir()],
                                    stdout=subprocess.PIPE, text=True)
            pids = json.loads(proc.stdout.readline())
            time.sleep(1.0)
            proc.send_signal(sig)
            proc.wait(timeout=20)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(alive(p) for p in pids):
                time.sleep(0.05)
            if any(alive(p) for p in pids):
                for p in pids:
                    os.kill(p, signal.SIGKILL)
                return ("F", "workers alive 5 s after the driver died")
            kw = {"tmpdir": tempfile.gettempdir()} if ex == "disk" else {}
            minimr.Context(executor=ex, workers=1, **kw).stop()       # the next Context
            return ("S", "")                                          # (dirs: checked after)


# --------------------------------------------------------------------------- chaos

def chaos_case(ex, seed):
    """The chaos job, with the seed's kills made from a thread of the driver."""
    rng = random.Random(seed)
    plan = [(0.5 * (k + 1), rng.randrange(2)) for k in range(8)]

    def slow(split, it):
        time.sleep(0.5)
        return it
    with context(ex) as ctx:
        done = threading.Event()

        def killer():
            start = time.monotonic()
            for t, slot in plan:
                if done.wait(max(0.0, start + t - time.monotonic())):
                    return
                try:
                    os.kill(ctx.status()["workers"][slot]["pid"], signal.SIGKILL)
                except (ProcessLookupError, IndexError, KeyError):
                    pass
        t = threading.Thread(target=killer)
        t.start()
        try:
            got = (ctx.parallelize(range(N), 8).mapPartitionsWithIndex(slow).map(lambda x: (x % 7, 1))
                   .reduceByKey(add, 4).mapPartitionsWithIndex(slow).collect())
        finally:
            done.set()
            t.join()
        return sorted(got)


# ------------------------------------------------------------------ helpers (both sides)

def crashing(longest=6.0):
    """A task that exits a third of the time and sleeps (up to `longest` s) a third of the
    time, decided by (stage, partition, attempt): 6.5840's crash.go, replayable."""
    def f(split, it):
        from minimr import TaskContext
        tc = TaskContext.get()
        r = random.Random(f"{tc.stageId()}-{split}-{tc.attemptNumber()}")
        roll = r.random()
        if roll < 1 / 3:
            os._exit(1)
        if roll < 2 / 3:
            time.sleep(r.uniform(0, longest))
        return it
    return f


def processes():
    """(pid, the fields of /proc/PID/stat after the command name) of every process."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    yield int(name), f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue


def alive(pid):
    """True if `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children():
    """The pids of this process's live minimr workers (ppid == us; not, say, a Spark JVM)."""
    me = os.getpid()
    return {pid for pid, f in processes() if int(f[1]) == me and f[0] != "Z" and is_worker(pid)}


def is_worker(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"minimr.worker" in f.read()
    except OSError:
        return False


def in_session(sid):
    """Live processes of session `sid` (a case and everything it started)."""
    return [pid for pid, f in processes() if int(f[3]) == sid and f[0] != "Z"]


def wait_until(cond, seconds, step=0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def classify(exc):
    """CE for a clear error, else F: a MinimrError, or an exception carrying minimr's note."""
    from minimr import MinimrError
    notes = " ".join(getattr(exc, "__notes__", []))
    if isinstance(exc, MinimrError) or "minimr:" in notes:
        return "CE", f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}"
    return "F", f"unclear error {type(exc).__name__}: {str(exc)[:100]}"


def run_case(spec):
    """In the case process: run one case, print its outcome as JSON."""
    kind, arg, ex = spec.split(":")
    try:
        got = chaos_case(ex, int(arg)) if kind == "chaos" else ROWS[int(arg)][3](ex)
        if isinstance(got, tuple):
            outcome = got
        else:
            outcome = ("S", "") if got == EXPECTED else ("F", f"wrong answer {str(got)[:80]}")
    except NotHere as exc:
        outcome = ("-", str(exc))
    except BaseException as exc:
        outcome = classify(exc)
    print(json.dumps(outcome), flush=True)
    os._exit(0)      # no interpreter shutdown games: what is left is what the engine left


def launch(spec, root, limit):
    """In the benchmark process: one case in a fresh process; (outcome, detail, seconds)."""
    tmp = tempfile.mkdtemp(prefix="faults-case-")
    scratch, work = os.path.join(tmp, "tmp"), os.path.join(tmp, "work")
    os.mkdir(scratch)
    os.mkdir(work)
    env = dict(os.environ, PYTHONPATH=root, TMPDIR=scratch, CASE_WORK=work)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, HERE, "--case", spec], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=work,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
        outcome, detail = json.loads(out.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        outcome, detail = "F", f"hang: no end within {limit} s"
    except (ValueError, IndexError):
        outcome, detail = "F", f"the case process died (exit code {proc.returncode})"
    seconds = time.monotonic() - start
    time.sleep(0.5)
    left = in_session(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait()
    leftover = [n for n in os.listdir(scratch)]
    shutil.rmtree(tmp, ignore_errors=True)
    if outcome != "F" and left:
        outcome, detail = "F", f"{len(left)} processes left behind"
    elif outcome != "F" and leftover:
        outcome, detail = "F", f"left in the temp dir: {', '.join(leftover)[:80]}"
    return outcome, detail, seconds


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=REPO, help="the directory holding the minimr package to test")
    p.add_argument("--seeds", type=int, default=20, help="chaos seeds per process executor")
    p.add_argument("--only", default="", help="only the rows whose name contains this")
    p.add_argument("--limit", type=float, default=60, help="seconds a case may take")
    p.add_argument("--case", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        return run_case(args.case)
    totals, odd, took = Counter(), 0, {}
    print(f"{'fault':74s} {'serial':>7s} {'memory':>7s} {'disk':>7s}  expected")
    for i, (name, executors, expect, _, limit) in enumerate(ROWS):
        if args.only not in name:
            continue
        cells = []
        for ex in ALL:
            if ex not in executors:
                cells.append("")
                continue
            outcome, detail, seconds = launch(f"row:{i}:{ex}", args.root, limit or args.limit)
            took[name, ex] = seconds
            totals[ex, outcome] += 1
            mark = "*" if outcome not in (expect, "-") else ""
            odd += bool(mark)
            cells.append(outcome + mark)
            if mark:
                print(f"    {ex}: {outcome} {detail}", file=sys.stderr)
        print(f"{name:74s} " + " ".join(f"{c:>7s}" for c in cells) + f"  {expect}", flush=True)
    for ex in ALL if took else ():
        print(f"{ex}: " + " / ".join(f"{totals[ex, o]} {o}" for o in ("S", "CE", "F", "-")))
    if took:
        print(f"outcomes other than expected: {odd}")
        slow = sorted(took.items(), key=lambda kv: -kv[1])[:3]
        print("slowest cases: " + "; ".join(f"{n} on {ex}: {s:.0f} s" for (n, ex), s in slow))
    if args.seeds and args.only in "chaos":            # (--only chaos: the chaos runs alone)
        for ex in PROCESS:
            results = [launch(f"chaos:{seed}:{ex}", args.root, args.limit) for seed in range(args.seeds)]
            right = sum(o == "S" for o, _, _ in results)
            print(f"chaos, {ex}: {right}/{args.seeds} correct "
                  f"({Counter(o for o, _, _ in results)}, {max(s for _, _, s in results):.1f} s at most)",
                  flush=True)
            for seed, (o, d, _) in enumerate(results):
                if o != "S":
                    print(f"    seed {seed}: {o} {d}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
