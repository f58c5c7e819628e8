"""The one-page job report: one self-contained HTML file (inline CSS and SVG, a few lines
of script; nothing fetched from a network), drawn from a Context's events.

    the jobs            one line each: what ran, how long, its stages
    for each job        the stage DAG: a box per stage holding its datasets as
                          toDebugString shows them (cached ones marked), shuffles as edges,
                          skipped stages dashed
                        the task timeline: a lane per worker, a slice per task attempt,
                          its phases coloured (timeline.PHASES), failures outlined
                        the shuffle matrix: bytes from each map task to each reduce
                          partition, heat-coloured, with what the combiner shrank
                        the counters, grouped as Hadoop prints a job's counters
    storage             cached partitions per worker, and their bytes

Each task slice carries data-task="STAGE.PARTITION.ATTEMPT" and each stage box
data-stage="STAGE", so that tests (and curious readers) can count them. Several runs
(e.g. the disk and the memory executor on the same program) can sit side by side.
"""

import html
import os

from ..events import hadoop_counters
from .timeline import PHASES, attempts, lane_name, phases

GROUPS = {       # Hadoop prints a job's counters in groups
    "File System Counters": ["FILE_BYTES_READ", "FILE_BYTES_WRITTEN"],
    "Job Counters": ["TOTAL_LAUNCHED_MAPS", "TOTAL_LAUNCHED_REDUCES", "NUM_FAILED_MAPS",
                     "NUM_FAILED_REDUCES", "NUM_KILLED_MAPS", "NUM_KILLED_REDUCES"],
    "Map-Reduce Framework": [
        "MAP_INPUT_RECORDS", "MAP_OUTPUT_RECORDS", "MAP_OUTPUT_BYTES",
        "MAP_OUTPUT_MATERIALIZED_BYTES", "COMBINE_INPUT_RECORDS", "COMBINE_OUTPUT_RECORDS",
        "SPILLED_RECORDS", "REDUCE_INPUT_GROUPS", "REDUCE_INPUT_RECORDS",
        "REDUCE_OUTPUT_RECORDS", "REDUCE_SHUFFLE_BYTES", "SHUFFLED_MAPS", "FAILED_SHUFFLE",
        "MERGED_MAP_OUTPUTS"],
    "Spark": ["CACHE_HITS", "CACHE_MISSES", "RECOMPUTED_PARTITIONS", "SPECULATIVE_TASKS",
              "WORKERS_LOST"],
}

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;border-bottom:2px solid #ddd}
h3{font-size:15px;margin:18px 0 6px} .note{color:#666;font-size:12px;max-width:70em}
.runs{display:flex;gap:32px;align-items:flex-start} .run{flex:1;min-width:0;overflow-x:auto}
table{border-collapse:collapse;font-size:12px;margin:4px 0 10px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right} th{background:#f4f4f4}
td.l,th.l{text-align:left} details{margin:10px 0;border:1px solid #eee;padding:6px 10px}
summary{cursor:pointer;font-weight:600} .legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
svg text{font:11px ui-monospace,monospace} .stage:hover rect.box{stroke:#000;stroke-width:2}
.hl{outline:2px solid #000}
"""

SCRIPT = """
document.querySelectorAll('[data-stage]').forEach(function (box) {
  box.addEventListener('mouseenter', function () {
    var s = box.getAttribute('data-stage');
    document.querySelectorAll('[data-task^="' + s + '."]').forEach(function (t) { t.classList.add('hl'); });
  });
  box.addEventListener('mouseleave', function () {
    document.querySelectorAll('.hl').forEach(function (t) { t.classList.remove('hl'); });
  });
});
"""


def write(runs, path, title="minimr: what happened"):
    """`runs`: the events of one Context, or [(label, events), ...] to show side by side."""
    if runs and isinstance(runs[0], dict):
        runs = [("", runs)]
    runs = [(label, list(events)) for label, events in runs]
    span = max((_span(events) for _, events in runs), default=1e-6)   # one scale for all
    body = "".join(f'<section class="run">{_run(label, events, span)}</section>'
                   for label, events in runs)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{_e(title)}</title><style>{CSS}</style></head><body>'
            f'<h1>{_e(title)}</h1><p class="note">Made by minimr from its event log. Hover a '
            f'stage box to light up its tasks; hover a task for its numbers. Phases inside a '
            f'task are measured, but laid end to end: reading and computing interleave '
            f'record by record.</p><div class="runs">{body}</div>'
            f'<script>{SCRIPT}</script></body></html>')
    with open(path, "w") as f:
        f.write(page)
    return os.path.abspath(path)


def _e(text):
    return html.escape(str(text))


def _span(events):
    times = [e["time"] for e in events if e["event"] in ("JobStart", "JobEnd", "TaskEnd")]
    return max(max(times) - min(times), 1e-6) if times else 1e-6


def _run(label, events, span):
    jobs = _jobs(events)
    out = [f"<h2>{_e(label)}</h2>" if label else ""]
    if len(jobs) > 1:                  # every job on one time axis: where the time went
        whole = {"start": jobs[0]["start"], "end": jobs[0]["start"] + span, "events": events,
                 "attempts": [a for j in jobs for a in j["attempts"]]}
        out.append(f"<h3>All {len(jobs)} jobs, on one time axis</h3>"
                   + _timeline(whole, marks=[j["start"] for j in jobs], attr="data-run-task")
                   + _legend())
    out.append("<h3>Jobs</h3><table><tr><th>job</th><th class=l>dataset</th><th>result</th>"
               "<th>seconds</th><th>stages</th><th>task attempts</th></tr>")
    for j in jobs:
        out.append(f"<tr><td>{j['job']}</td><td class=l>{_e(j['rdd'])}</td>"
                   f"<td>{_e(j['result'])}</td><td>{j['seconds']:.3f}</td>"
                   f"<td>{len(j['stages'])}</td><td>{len(j['attempts'])}</td></tr>")
    out.append("</table>")
    for index, j in enumerate(jobs):
        out.append(f"<details {'open' if index >= len(jobs) - 3 else ''}><summary>Job {j['job']}: "
                   f"{_e(j['rdd'])} ({len(j['stages'])} stages, {j['seconds']:.3f} s)</summary>")
        out.append("<h3>Stages</h3>" + _dag(j["stages"]))
        out.append("<h3>Tasks</h3>" + _timeline(j) + _legend())
        out.append(_shuffles(j))
        out.append("<h3>Counters</h3>" + _counters(hadoop_counters(events, j["job"])))
        out.append("</details>")
    out.append("<h3>Storage</h3>" + _storage(events))
    return "".join(out)


def _jobs(events):
    """Each job with its events: stages (submitted or skipped), attempts, instants."""
    jobs, current = [], None
    for e in events:
        if e["event"] == "JobStart":
            current = {"job": e["job"], "rdd": e.get("rdd", ""), "start": e["time"],
                       "end": e["time"], "result": "running", "seconds": 0.0, "stages": {},
                       "events": []}
            jobs.append(current)
        if current is None:
            continue
        current["events"].append(e)
        if e["event"] == "StageSubmitted":
            current["stages"][e["stage"]] = dict(e, status="running")
        elif e["event"] == "StageCompleted":
            current["stages"].setdefault(e["stage"], dict(e))["status"] = e["status"]
        elif e["event"] == "JobEnd":
            current.update(end=e["time"], result=e["result"], seconds=e["time"] - current["start"])
            current = None
    for j in jobs:
        j["attempts"] = attempts(j["events"])
        j["end"] = max([j["end"]] + [a["end"] for a in j["attempts"]])
    return jobs


def _dag(stages):
    """Stages as boxes in columns (a stage sits right of the stages whose shuffles it
    reads), shuffles as arrows."""
    writer = {s["writes"]: sid for sid, s in stages.items() if s.get("writes") is not None}
    depth = {}

    def column(sid):
        if sid not in depth:
            depth[sid] = 0
            depth[sid] = 1 + max([column(writer[r]) for r in stages[sid].get("reads", [])
                                  if r in writer] or [-1])
        return depth[sid]

    for sid in stages:
        column(sid)
    width, gap, line = 300, 70, 15
    boxes, rows = {}, {}
    for sid in sorted(stages, key=lambda s: (depth[s], s)):
        col = depth[sid]
        height = 30 + line * len(stages[sid].get("rdds", []))
        y = rows.get(col, 10)
        boxes[sid] = (10 + col * (width + gap), y, height)
        rows[col] = y + height + 16
    total_w = 20 + (max(depth.values(), default=0) + 1) * (width + gap)
    total_h = max(rows.values(), default=40) + 10
    parts = [f'<svg width="{total_w}" height="{total_h}" role="img" '
             f'aria-label="stage graph"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" '
             f'refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" '
             f'fill="#888"/></marker></defs>']
    for sid, s in stages.items():
        for r in s.get("reads", []):
            if r in writer and writer[r] in boxes:
                x1, y1, h1 = boxes[writer[r]]
                x2, y2, h2 = boxes[sid]
                parts.append(f'<path d="M{x1 + width},{y1 + h1 / 2} C{x1 + width + gap / 2},'
                             f'{y1 + h1 / 2} {x2 - gap / 2},{y2 + h2 / 2} {x2},{y2 + h2 / 2}" '
                             f'fill="none" stroke="#888" marker-end="url(#arrow)"/>'
                             f'<text x="{x1 + width + 4}" y="{y1 + h1 / 2 - 4}" fill="#888">'
                             f'shuffle {r}</text>')
    for sid, (x, y, h) in boxes.items():
        s = stages[sid]
        skipped = s.get("status") == "skipped"
        fill = "#f3f3f3" if skipped else ("#fde2e2" if s.get("status") == "failed" else "#eef4fb")
        title = f"stage {sid}: {s.get('name', '')}" + (" (skipped)" if skipped else "")
        dash = 'stroke-dasharray="5,4"' if skipped else ""
        tip = title + (": an earlier job made its output, which is read again" if skipped else "")
        parts.append(f'<g class="stage" data-stage="{sid}"><title>{_e(tip)}</title>'
                     f'<rect class="box" x="{x}" y="{y}" width="{width}" height="{h}" rx="6" '
                     f'fill="{fill}" stroke="#7a9cc6" {dash}/>'
                     f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{_e(title[:44])}</text>')
        for i, rdd in enumerate(s.get("rdds", [])):
            cached = any(f"[{rid}]" in rdd for rid in s.get("cached", []))
            parts.append(f'<text x="{x + 12}" y="{y + 36 + i * line}" '
                         f'fill="{"#2e7d32" if cached else "#333"}">'
                         f'{"● " if cached else ""}{_e(rdd[:40])}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts) + ('<p class="note">● a persisted dataset. Arrows are shuffles: the '
                             'stage on the left writes it, the one on the right reads it.</p>')


def _timeline(job, marks=(), attr="data-task"):
    """Lanes of task slices, each marked attr="STAGE.PARTITION.ATTEMPT"; `marks`: times
    to draw a thin line at (each job's start)."""
    tries = job["attempts"]
    workers = sorted({a["worker"] for a in tries}, key=lambda w: (w != "driver", str(w)))
    lost = [e for e in job["events"] if e["event"] in ("WorkerLost", "FetchFailed")]
    for e in lost:
        if e.get("worker", "driver") not in workers:
            workers.append(e.get("worker", "driver"))
    span = max(job["end"] - job["start"], 1e-6)
    left, width, lane_h = 80, 900, 26
    x = lambda t: left + (t - job["start"]) / span * width                # noqa: E731
    parts = [f'<svg width="{left + width + 20}" height="{lane_h * len(workers) + 34}" '
             f'role="img" aria-label="task timeline">']
    for i, w in enumerate(workers):
        y = 6 + i * lane_h
        parts.append(f'<text x="4" y="{y + 16}">{_e(lane_name(w))}</text><line x1="{left}" '
                     f'x2="{left + width}" y1="{y + lane_h - 2}" y2="{y + lane_h - 2}" stroke="#eee"/>')
    for a in tries:
        y = 6 + workers.index(a["worker"]) * lane_h
        x0, x1 = x(a["start"]), max(x(a["end"]), x(a["start"]) + 1)
        e = a["end_event"]
        tip = (f"stage {a['stage']} partition {a['partition']} attempt {a['attempt']} on "
               f"{lane_name(a['worker'])}: {a['outcome']}, {a['end'] - a['start']:.4f} s"
               + "".join(f"\n{k} {v}" for k, v in e.items()
                         if k not in ("event", "time", "buckets") and v not in (None, False)))
        outline = "#c62828" if a["outcome"] != "success" else "#555"
        parts.append(f'<g {attr}="{a["stage"]}.{a["partition"]}.{a["attempt"]}">'
                     f'<title>{_e(tip)}</title>')
        cursor, seconds = x0, a["end"] - a["start"]
        for phase, s in phases(e, seconds).items():
            w = (x1 - x0) * (s / seconds if seconds > 0 else 0)
            if w > 0:
                parts.append(f'<rect x="{cursor:.2f}" y="{y}" width="{w:.2f}" height="{lane_h - 6}" '
                             f'fill="{PHASES[phase][1]}"/>')
                cursor += w
        parts.append(f'<rect x="{x0:.2f}" y="{y}" width="{x1 - x0:.2f}" height="{lane_h - 6}" '
                     f'fill="none" stroke="{outline}" stroke-width="{2 if outline != "#555" else 0.5}"/>')
        if x1 - x0 > 46:                                  # room for "s1 p3" inside the slice
            parts.append(f'<text x="{x0 + 3:.2f}" y="{y + 14}" fill="#fff">s{a["stage"]} p{a["partition"]}</text>')
        parts.append("</g>")
    for e in lost:
        y = 6 + workers.index(e.get("worker", "driver")) * lane_h
        parts.append(f'<g><title>{_e(e["event"] + ": " + str(e.get("reason", "")))}</title>'
                     f'<path d="M{x(e["time"]):.1f},{y} l6,-5 l0,10 z" fill="#c62828"/></g>')
    bottom = 6 + len(workers) * lane_h
    parts += [f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="2" y2="{bottom}" stroke="#999" '
              f'stroke-dasharray="2,3"/>' for t in marks]
    parts.append(f'<text x="{left}" y="{bottom + 16}">0 s</text><text x="{left + width - 60}" '
                 f'y="{bottom + 16}">{span:.3f} s</text></svg>')
    return "".join(parts)


def _legend():
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{colour}"></i>{_e(label)}</span>'
        for label, colour in PHASES.values()) + "</div>"


def _shuffles(job):
    """For each map stage: bytes from each map task (row) to each reduce partition."""
    out = []
    for sid, s in sorted(job["stages"].items()):
        if s.get("writes") is None or s.get("status") == "skipped":
            continue
        done = {a["partition"]: a["end_event"] for a in job["attempts"]
                if a["stage"] == sid and a["outcome"] == "success" and a["end_event"].get("buckets")}
        if not done:
            continue
        reduces = max(len(e["buckets"]) for e in done.values())
        top = max((b for e in done.values() for _, b in e["buckets"]), default=0) or 1
        out.append(f"<h3>Shuffle {s['writes']} (written by stage {sid}): bytes from map task "
                   "to reduce partition</h3><table><tr><th>map task</th>"
                   + "".join(f"<th>r{r}</th>" for r in range(reduces))
                   + "<th class=l>records out of the map function &rarr; written</th></tr>")
        for p in sorted(done):
            e = done[p]
            cells = "".join(f'<td style="background:{_heat(b / top)}" title="{n} records">{b}</td>'
                            for n, b in e["buckets"])
            written = sum(n for n, _ in e["buckets"])
            shrink = f"{e.get('output_records', written)} &rarr; {written}"
            out.append(f"<tr><th>{p}</th>{cells}<td class=l>{shrink}</td></tr>")
        out.append("</table>")
    return "".join(out)


def _heat(share):
    """White to orange."""
    g, b = int(255 - share * 130), int(255 - share * 220)
    return f"rgb(255,{g},{b})"


def _counters(counts):
    rows, seen = [], set()
    for group, names in GROUPS.items():
        rows.append(f'<tr><th class=l colspan=2>{group}</th></tr>')
        rows += [f"<tr><td class=l>{n}</td><td>{counts.get(n, 0):,}</td></tr>" for n in names]
        seen |= set(names)
    rest = sorted(n for n in counts if n not in seen)
    if rest:
        rows.append('<tr><th class=l colspan=2>minimr</th></tr>')
        rows += [f"<tr><td class=l>{n}</td><td>{counts[n]:,}</td></tr>" for n in rest]
    return "<table>" + "".join(rows) + "</table>"


def _storage(events):
    """Partitions each worker cached (cache_puts of its tasks), and their bytes."""
    cached = {e["stage"]: e.get("cached", []) for e in events if e["event"] == "StageSubmitted"}
    per = {}
    for e in events:
        if e["event"] == "TaskEnd" and e.get("cache_puts"):
            for rdd in cached.get(e["stage"], [])[:1]:
                w = per.setdefault((lane_name(e["worker"]), rdd), [0, 0])
                w[0] += e["cache_puts"]
                w[1] += e.get("cache_put_bytes", 0)
    if not per:
        return '<p class="note">Nothing was cached (or it was kept nowhere: the disk executor keeps a memory storage level nowhere between jobs).</p>'
    return ("<table><tr><th class=l>worker</th><th>dataset</th><th>partitions cached</th>"
            "<th>bytes</th></tr>" + "".join(
                f"<tr><td class=l>{_e(w)}</td><td>{rdd}</td><td>{n}</td><td>{b:,}</td></tr>"
                for (w, rdd), (n, b) in sorted(per.items())) + "</table>")
