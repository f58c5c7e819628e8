"""What a learner watches: events, Hadoop's counters, the timeline, the report (its DOM
checked in a real Chromium), and the progress bar, on the serial, memory and disk
executors. Counters are checked against plain-Python counts of the same data."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from operator import add

import pytest

import minimr
from minimr import events as minimr_events
from minimr.report import timeline

pytestmark = [pytest.mark.minimr_only, pytest.mark.timeout(120)]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINES = ["to be or not to be", "that is the question", "", "whether tis nobler",
         "in the mind to suffer", "the slings and arrows", "of outrageous fortune"] * 3


def wordcount(ctx, partitions=3, reduces=2):
    lines = ctx.parallelize(LINES, partitions)
    counts = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(add, reduces)
    return lines, counts, counts.collect()


def test_wordcount_counters_are_hadoops(ctx):
    lines, counts, result = wordcount(ctx)
    words = [w for line in LINES for w in line.split()]
    per_map = [len({w for line in part for w in line.split()}) for part in lines.glom().collect()]
    c = ctx.counters(job=-2)                       # the wordcount (glom ran after it)
    assert dict(result) == Counter(words)
    assert c["MAP_INPUT_RECORDS"] == len(LINES)
    assert c["MAP_OUTPUT_RECORDS"] == c["COMBINE_INPUT_RECORDS"] == len(words)
    assert c["COMBINE_OUTPUT_RECORDS"] == c["REDUCE_INPUT_RECORDS"] == sum(per_map)
    assert c["REDUCE_INPUT_GROUPS"] == c["REDUCE_OUTPUT_RECORDS"] == len(set(words))
    assert c["TOTAL_LAUNCHED_MAPS"] == 3 and c["TOTAL_LAUNCHED_REDUCES"] == 2
    assert c["SHUFFLED_MAPS"] == c["MERGED_MAP_OUTPUTS"] == 3 * 2
    assert c["MAP_OUTPUT_MATERIALIZED_BYTES"] == c["REDUCE_SHUFFLE_BYTES"] > 0
    assert c["NUM_FAILED_MAPS"] == c["WORKERS_LOST"] == c["FAILED_SHUFFLE"] == 0
    assert set(minimr_events.HADOOP) <= set(c)
    assert ctx.counters(job=len(ctx.jobs) - 2) == c          # from 0, or from the end
    spills = c["SPILLED_RECORDS"]
    assert (spills > 0) == (ctx.executor_name == "disk")     # only the disk executor spills
    assert (c["MAP_OUTPUT_BYTES"] > 0) == (ctx.executor_name == "disk")


def test_cache_counters_and_a_skipped_stage(ctx):
    data = ctx.parallelize(range(40), 4).map(lambda x: (x % 4, x)).cache()
    sums = data.reduceByKey(add)
    assert sorted(sums.collect()) == [(k, sum(range(k, 40, 4))) for k in range(4)]
    first = ctx.counters()
    assert first["CACHE_MISSES"] == 4 and first["CACHE_HITS"] == 0
    assert sorted(sums.collect()) == [(k, sum(range(k, 40, 4))) for k in range(4)]
    second = ctx.counters()                     # the shuffle is reused: its stage skipped
    assert second["TOTAL_LAUNCHED_MAPS"] == 0 and second["CACHE_HITS"] == 0
    job = [e for e in ctx.events if e["event"] == "StageCompleted"][-2:]
    assert [e["status"] for e in job] == ["skipped", "succeeded"]
    assert data.map(lambda kv: kv[1]).sum() == sum(range(40))
    kept = ctx.executor_name != "disk"            # disk: a memory level keeps nothing
    assert ctx.counters()["CACHE_HITS"] == (4 if kept else 0)


def test_events_are_flat_records_in_order(ctx, tmp_path):
    wordcount(ctx)
    log = list(ctx.events)
    start = max(i for i, e in enumerate(log) if e["event"] == "JobStart" and
                e["job"] == ctx.jobs[-1]["job"])
    mine = log[start:]
    assert mine[0]["event"] == "JobStart" and mine[-1]["event"] == "JobEnd"
    assert all(isinstance(e["time"], float) and isinstance(e["event"], str) for e in mine)
    assert all(not isinstance(v, dict) for e in mine for v in e.values())    # flat
    names = [e["event"] for e in mine]
    assert names.count("StageSubmitted") == names.count("StageCompleted") == 2
    assert names.count("TaskStart") == names.count("TaskEnd") == 5
    ends = [e for e in mine if e["event"] == "TaskEnd"]
    assert all(e["outcome"] == "success" and {"stage", "partition", "attempt", "worker"}
               <= set(e) for e in ends)
    maps = [e for e in ends if "buckets" in e]
    assert len(maps) == 3 and all(len(e["buckets"]) == 2 for e in maps)
    assert sum(n for e in maps for n, _ in e["buckets"]) == \
        ctx.counters()["COMBINE_OUTPUT_RECORDS"]


def test_event_log_file_holds_every_event(tmp_path):
    with minimr.Context(executor="memory", workers=2, eventLog=str(tmp_path)) as ctx:
        wordcount(ctx)
        kept = list(ctx.events)
        path = ctx.events.path
    assert os.path.dirname(path) == str(tmp_path)
    assert minimr_events.read(path) == json.loads(json.dumps(kept))
    assert [e["event"] for e in kept if e["event"] == "WorkerStarted"] == ["WorkerStarted"] * 2


def test_events_off_records_nothing():
    with minimr.Context(executor="serial", events=False) as ctx:
        wordcount(ctx)
        assert len(ctx.events) == 0
        with pytest.raises(minimr.MinimrError, match="events"):
            ctx.counters()


def test_counters_name_a_job_by_its_number_after_old_events_are_dropped(monkeypatch):
    monkeypatch.setattr(minimr_events, "KEEP", 40)     # a small memory: old jobs fall out
    with minimr.Context(executor="serial") as ctx:
        counts = []
        for n in range(1, 8):
            ctx.parallelize(range(n), 2).count()
            counts.append(ctx.counters()["MAP_INPUT_RECORDS"])
        assert counts == list(range(1, 8))
        assert ctx.counters(job=6) == ctx.counters(job=-1) == ctx.counters()
        assert ctx.counters(job=5)["MAP_INPUT_RECORDS"] == 6
        with pytest.raises(IndexError, match="no events of job 0 "):
            ctx.counters(job=0)


def test_a_lost_worker_and_a_fetch_failure_are_events(tmp_path):
    import signal
    import time
    with minimr.Context(executor="memory", workers=2) as ctx:
        pairs = ctx.parallelize(range(200), 4).map(lambda x: (x % 10, x)).partitionBy(2)

        def fetch_late(it):
            time.sleep(0.6)
            return [sorted(it)]
        victim = ctx.status()["workers"][0]["pid"]
        import threading
        killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
        killer.start()
        try:
            got = pairs.mapPartitions(fetch_late).collect()
        finally:
            killer.join()
        assert sorted(x for part in got for _, x in part) == list(range(200))
        c = ctx.counters()
        assert c["WORKERS_LOST"] == 1 and c["FAILED_SHUFFLE"] >= 1
        assert c["NUM_FAILED_MAPS"] + c["NUM_FAILED_REDUCES"] >= 1
        names = [e["event"] for e in ctx.events]
        assert "WorkerLost" in names and "FetchFailed" in names
        assert names.count("WorkerStarted") == 3                 # two, then the replacement
        trace = timeline.trace(list(ctx.events))
        assert {e["name"] for e in trace["traceEvents"] if e["ph"] == "i"} >= {"WorkerLost"}


# ------------------------------------------------------------------ the timeline

def test_timeline_is_chrome_trace_with_a_lane_per_worker(tmp_path):
    with minimr.Context(executor="memory", workers=2) as ctx:
        wordcount(ctx)
        ctx.timeline(str(tmp_path / "trace.json"))
    trace = json.loads((tmp_path / "trace.json").read_text())
    lanes = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert lanes == {"driver", "worker 0", "worker 1"}
    tasks = [e for e in trace["traceEvents"] if e["ph"] == "X" and e.get("cat") == "success"]
    assert len(tasks) == 5
    for t in tasks:                                      # phases nest inside their task
        inside = [p for p in trace["traceEvents"] if p.get("cat") == "phase"
                  and p["tid"] == t["tid"] and t["ts"] <= p["ts"] < t["ts"] + t["dur"]]
        assert inside and sum(p["dur"] for p in inside) == pytest.approx(t["dur"], rel=0.02)


# -------------------------------------------------------------------- the report

def two_shuffles(ctx):
    words = ctx.parallelize(LINES, 3).flatMap(str.split)
    by_count = (words.map(lambda w: (w, 1)).reduceByKey(add, 2)
                     .map(lambda kv: (kv[1], kv[0])).groupByKey(2).mapValues(sorted))
    return by_count.collect()


def job_shape(events):
    """(task attempts, stages) of the last job, from its events."""
    start = max(i for i, e in enumerate(events) if e["event"] == "JobStart")
    mine = events[start:]
    stages = {e["stage"] for e in mine if e["event"] in ("StageSubmitted", "StageCompleted")}
    return sum(e["event"] == "TaskEnd" for e in mine), len(stages)


@pytest.mark.parametrize("job", [wordcount, two_shuffles])
def test_report_marks_every_task_and_stage(ctx, tmp_path, job):
    ctx.events.clear()
    job(ctx)
    events = list(ctx.events)
    path = tmp_path / "report.html"
    ctx.report(str(path))
    page = path.read_text()
    tasks, stages = job_shape(events)
    assert page.count("data-task=") == tasks and page.count("data-stage=") == stages
    assert "http://" not in page and "https://" not in page and "<link" not in page


def test_report_command_line_and_counters(tmp_path):
    with minimr.Context(executor="disk", workers=2, eventLog=str(tmp_path)) as ctx:
        wordcount(ctx)
        path = ctx.events.path
    out = subprocess.run([sys.executable, "-m", "minimr.report", "--counters", path],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "\tMap-Reduce Framework\n" in out.stdout and "\t\tMAP_INPUT_RECORDS=21\n" in out.stdout
    html_path = tmp_path / "r.html"
    out = subprocess.run([sys.executable, "-m", "minimr.report", path, path, "-o", str(html_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and html_path.exists(), out.stderr
    assert html_path.read_text().count('class="run"') == 2      # side by side


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: the report's browser tests are "
                                              "skipped (.ci/run installs Debian's chromium)")
@pytest.mark.parametrize("job", [wordcount, two_shuffles])
def test_report_in_a_real_browser(tmp_path, job):
    """Load the report in headless Chromium: count the task slices and stage boxes in
    the DOM, check the console is clean, and save a screenshot under results/."""
    playwright = pytest.importorskip("playwright.sync_api")
    with minimr.Context(executor="memory", workers=2) as ctx:
        job(ctx)
        events = list(ctx.events)
        ctx.report(str(tmp_path / "report.html"))
    tasks, stages = job_shape(events)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((tmp_path / "report.html").as_uri())
            last = page.locator("details").last
            assert last.locator("[data-task]").count() == tasks
            assert last.locator("[data-stage]").count() == stages
            last.locator("[data-stage]").first.hover()         # the script lights up tasks
            assert page.locator(".hl").count() >= 1
            assert errors == []
            os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
            page.screenshot(path=os.path.join(ROOT, "results", f"report-{job.__name__}.png"),
                            full_page=True)
        finally:
            browser.close()


# ------------------------------------------------------------------- the progress bar

SLOW_JOB = """
    import sys, time, minimr
    with minimr.Context(executor="memory", workers=2, progress={progress}) as ctx:
        ctx.parallelize(range(4), 4).map(lambda x: time.sleep(0.4) or x).sum()
        ctx.parallelize(range(4), 4).sum()          # too quick to show a bar
"""


@pytest.mark.parametrize("progress", [True, False, None])
def test_the_progress_bar_shows_slow_stages_only(tmp_path, progress):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SLOW_JOB.format(progress=progress)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=90, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 0, out.stderr
    shown = "[Stage 0:" in out.stderr
    assert shown == bool(progress)            # None: stderr is not a terminal here: off
    if shown:
        assert "[Stage 1:" not in out.stderr
        frames = [f for f in re.split(r"[\r\n]", out.stderr) if f.startswith("[Stage 0:")]
        assert frames and all(re.fullmatch(r"\[Stage 0:[ >=]*\([0-4] \+ [0-4]\) / 4\]\s*", f)
                              for f in frames), frames       # Spark's shape, nothing else
