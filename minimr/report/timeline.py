"""The tasks of a Context, as Chrome's Trace Event format: open the file in Perfetto
(ui.perfetto.dev) or chrome://tracing.

    a lane per worker (and one for the driver: jobs, stages, and the serial executor's
    tasks), a slice per task attempt from its TaskStart to its TaskEnd, nested slices for
    its phases, instant events for lost workers and fetch failures.

A task's phases are what it measured (minimr.task.add_metric timers): their lengths are
real, their order inside the slice is not (reading and computing interleave record by
record), so they are laid end to end in the order of PHASES, as Spark's UI stacks them.
"""

import json

# phase -> (label, colour); "compute" is the task's time not in another phase
PHASES = {
    "read": ("reading input", "#4e79a7"),
    "fetch": ("shuffle fetch", "#f28e2b"),
    "cache_read": ("cache read", "#59a14f"),
    "compute": ("computing (the program's functions)", "#76b7b2"),
    "spill": ("sort and spill", "#e15759"),
    "merge": ("merge", "#ff9da7"),
    "shuffle_write": ("shuffle write", "#edc948"),
    "cache_write": ("cache write", "#b07aa1"),
    "outside": ("outside the task: shipping it and its result", "#bab0ac"),
}


def phases(task_end, seconds):
    """{phase: seconds} of one TaskEnd whose slice lasted `seconds` in the driver's view."""
    get = lambda key: float(task_end.get(key) or 0.0)          # noqa: E731
    fetch = get("shuffle_fetch_seconds")
    parts = {"read": max(0.0, get("input_seconds") - fetch - get("cache_read_seconds")),
             "fetch": fetch, "cache_read": get("cache_read_seconds"),
             "spill": get("spill_seconds"), "merge": get("merge_seconds"),
             "shuffle_write": get("shuffle_write_seconds"),
             "cache_write": get("cache_write_seconds")}
    inside = get("task_seconds") or seconds
    parts["compute"] = max(0.0, inside - sum(parts.values()))
    parts["outside"] = max(0.0, seconds - inside)
    return {k: parts[k] for k in PHASES}


def attempts(events):
    """Each task attempt: {"stage", "partition", "attempt", "worker", "start", "end",
    "outcome", "end_event"}, paired from TaskStart and TaskEnd."""
    started, out = {}, []
    for e in events:
        key = (e.get("stage"), e.get("partition"), e.get("attempt"), e.get("worker"))
        if e["event"] == "TaskStart":
            started[key] = e
        elif e["event"] == "TaskEnd" and key in started:
            s = started.pop(key)
            out.append({"stage": e["stage"], "partition": e["partition"],
                        "attempt": e["attempt"], "worker": e["worker"], "start": s["time"],
                        "end": e["time"], "outcome": e["outcome"], "end_event": e,
                        "speculative": s.get("speculative", False)})
    return out


def lane_name(worker):
    return "driver" if worker == "driver" else f"worker {worker}"


def trace(events):
    """The Trace Event JSON object of these events."""
    events = list(events)
    t0 = min((e["time"] for e in events), default=0.0)
    us = lambda t: round((t - t0) * 1e6, 1)                    # noqa: E731
    lanes = {"driver": 0}
    out = []

    def lane(worker):
        if worker not in lanes:
            lanes[worker] = len(lanes)
        return lanes[worker]

    for a in attempts(events):
        tid, ts = lane(a["worker"]), us(a["start"])
        name = f"stage {a['stage']} task {a['partition']}" + (
            f" (attempt {a['attempt']})" if a["attempt"] else "")
        dur = max(us(a["end"]) - ts, 1.0)
        out.append({"name": name, "cat": a["outcome"], "ph": "X", "pid": 1, "tid": tid,
                    "ts": ts, "dur": dur, "args": {k: v for k, v in a["end_event"].items()
                                                    if k not in ("event", "time")}})
        for phase, seconds in phases(a["end_event"], a["end"] - a["start"]).items():
            if seconds > 0:
                out.append({"name": PHASES[phase][0], "cat": "phase", "ph": "X", "pid": 1,
                            "tid": tid, "ts": ts, "dur": seconds * 1e6})
                ts += seconds * 1e6
    open_stages = {}
    for e in events:
        if e["event"] in ("JobStart", "StageSubmitted"):
            open_stages[(e["event"], e.get("stage", e.get("job")))] = e
        elif e["event"] in ("JobEnd", "StageCompleted"):
            start = open_stages.pop(("JobStart" if e["event"] == "JobEnd" else "StageSubmitted",
                                     e.get("stage", e.get("job"))), None)
            if start is not None:
                what = f"job {e['job']}" if e["event"] == "JobEnd" else \
                    f"stage {e['stage']}: {start.get('name', '')}"
                out.append({"name": what, "cat": "driver", "ph": "X", "pid": 1, "tid": 0,
                            "ts": us(start["time"]), "dur": max(us(e["time"]) - us(start["time"]), 1.0)})
        elif e["event"] in ("WorkerLost", "FetchFailed"):
            out.append({"name": e["event"], "ph": "i", "s": "g", "pid": 1,
                        "tid": lane(e.get("worker", "driver")), "ts": us(e["time"]),
                        "args": {k: v for k, v in e.items() if k not in ("event", "time")}})
    out += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
             "args": {"name": lane_name(worker)}} for worker, tid in lanes.items()]
    out.append({"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "minimr"}})
    return {"traceEvents": out, "displayTimeUnit": "ms"}


def write(events, path):
    with open(path, "w") as f:
        json.dump(trace(events), f)
