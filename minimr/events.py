"""The record of what happened: events, named after Spark's listener events.

    JobStart(job, rdd, group, description)           JobEnd(job, result, seconds)
    StageSubmitted(job, stage, name, writes, reads,  StageCompleted(job, stage, status:
                   tasks, rdds, cached)                  succeeded | failed | skipped)
    TaskStart(stage, partition, attempt, worker,     TaskEnd(... outcome: success | failed |
              locality, speculative)                        lost | killed, seconds, and the
                                                            task's metrics, one field each)
    WorkerStarted(worker, pid)    WorkerLost(worker, pid, reason)
    FetchFailed(job, stage, partition, shuffle, map, reason)

Each event is a flat dict: {"event": "TaskEnd", "time": <seconds since the epoch>, "job": 0,
...}. The scheduler emits the job and stage events, the executors the task and worker
events, one call at each boundary (ctx.events.emit). `ctx.events` keeps the last events in
memory; `Context(eventLog=DIR)` also writes every one as a line of JSON to a file of its
own in DIR, as Spark's event log does. Everything a learner sees is derived from them:
`hadoop_counters` below, the progress bar, the timeline and the report
(minimr/report/, outside the engine).
"""

import json
import os
import time
from collections import Counter, deque

KEEP = 100_000   # events kept in memory (about 650 bytes each), the oldest go first
                 # (Spark's UI keeps as many tasks: spark.ui.retainedTasks)


class EventLog(deque):
    """The last KEEP events, oldest first (iterate it, or list() it)."""

    def __init__(self, enabled=True, directory=None):
        super().__init__(maxlen=KEEP)
        self.enabled = enabled
        self.listeners = []          # functions called with each event (the progress bar)
        self.file = None
        if enabled and directory is not None:
            os.makedirs(directory, exist_ok=True)
            name = f"minimr-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.jsonl"
            self.path = os.path.join(directory, name)
            self.file = open(self.path, "w")

    def emit(self, event, **fields):
        if not self.enabled:
            return
        record = {"event": event, "time": time.time(), **fields}
        self.append(record)
        if self.file is not None:
            self.file.write(json.dumps(record, default=str) + "\n")
            self.file.flush()
        for listen in self.listeners:
            listen(record)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def read(path):
    """The events of an event log file."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# Hadoop's counters, from a job's events. A task of a stage that writes a shuffle is on the
# map side; a task of a stage that reads one is on the reduce side (a middle stage, both);
# a task of a stage that does neither is a map (a map-only job). Two metrics take their
# name from the role; every other integer metric is already named as Hadoop counts it.
ROLES = {"input_records": ("MAP_INPUT_RECORDS", None),
         "output_records": ("MAP_OUTPUT_RECORDS", "REDUCE_OUTPUT_RECORDS")}


def hadoop_counters(events, job=-1):
    """{name: int} of job `job` (its number; negative counts from the last): the integer
    metrics of its successful task attempts, under Hadoop's upper-case names, and what the
    events count themselves (launched, failed and killed tasks, fetch failures, lost
    workers)."""
    events = list(events)
    starts = {e["job"]: i for i, e in enumerate(events) if e["event"] == "JobStart"}
    if not starts:
        raise IndexError("no job has run yet")
    job = max(starts) + 1 + job if job < 0 else job
    if job not in starts:                        # the job's events: from its JobStart to
        raise IndexError(f"no events of job {job} (the last {KEEP:,} events are kept)")
    first = starts[job]                          # its JobEnd (jobs run one after another)
    last = next((i for i in range(first, len(events)) if events[i]["event"] == "JobEnd"
                 and events[i]["job"] == job), len(events))
    mine = events[first:last + 1]
    stages = {e["stage"]: e for e in mine if e["event"] == "StageSubmitted"}
    total = Counter(dict.fromkeys(HADOOP, 0))
    for e in mine:
        stage = stages.get(e.get("stage"), {})
        reads, maps = bool(stage.get("reads")), stage.get("writes") is not None or not stage.get("reads")
        role = "REDUCES" if reads else "MAPS"
        if e["event"] == "TaskStart":
            total[f"TOTAL_LAUNCHED_{role}"] += 1
            total["SPECULATIVE_TASKS"] += bool(e.get("speculative"))
        elif e["event"] == "TaskEnd" and e["outcome"] != "success":
            total[f"NUM_{'KILLED' if e['outcome'] == 'killed' else 'FAILED'}_{role}"] += 1
        elif e["event"] == "TaskEnd":
            for key, value in e.items():
                if type(value) is not int or key in _IDS:
                    continue                             # ids, timers, flags
                if key in ROLES:
                    for name, on in zip(ROLES[key], (maps, reads)):
                        total[name] += value if name and on else 0
                else:
                    total[key.upper()] += value
            total["RECOMPUTED_PARTITIONS"] += bool(e.get("recomputed"))
        elif e["event"] == "FetchFailed":
            total["FAILED_SHUFFLE"] += 1
        elif e["event"] == "WorkerLost":
            total["WORKERS_LOST"] += 1
    total.pop(None, None)
    return dict(total)


_IDS = {"job", "stage", "partition", "attempt", "worker", "pid"}

HADOOP = ["MAP_INPUT_RECORDS", "MAP_OUTPUT_RECORDS", "MAP_OUTPUT_BYTES",
          "MAP_OUTPUT_MATERIALIZED_BYTES", "COMBINE_INPUT_RECORDS", "COMBINE_OUTPUT_RECORDS",
          "SPILLED_RECORDS", "REDUCE_INPUT_GROUPS", "REDUCE_INPUT_RECORDS",
          "REDUCE_OUTPUT_RECORDS", "REDUCE_SHUFFLE_BYTES", "SHUFFLED_MAPS", "FAILED_SHUFFLE",
          "MERGED_MAP_OUTPUTS", "TOTAL_LAUNCHED_MAPS", "TOTAL_LAUNCHED_REDUCES",
          "NUM_FAILED_MAPS", "NUM_FAILED_REDUCES", "NUM_KILLED_MAPS", "NUM_KILLED_REDUCES",
          "FILE_BYTES_READ", "FILE_BYTES_WRITTEN", "CACHE_HITS", "CACHE_MISSES",
          "RECOMPUTED_PARTITIONS", "SPECULATIVE_TASKS", "WORKERS_LOST"]
