"""A Spark-style console progress bar, one per running stage, drawn with tqdm:

    [Stage 3:=====>                    (5 + 2) / 8]

(5 tasks done, 2 running, of 8). Like Spark's ConsoleProgressBar it shows a stage only
once it has run for half a second, and clears it when the stage ends. It listens to the
Context's events (minimr/events.py); tqdm.auto draws it in a terminal or a notebook.
"""

import sys
import time

SHOW_AFTER = 0.5          # seconds a stage runs before its bar appears (Spark: 500 ms)


def attach(ctx, force=None):
    """Listen to ctx's events: always with force=True; with None only when stderr is a
    terminal or this is a notebook."""
    if force is None and not (sys.stderr.isatty() or _in_notebook()):
        return
    ctx.events.listeners.append(StageBars().on_event)


def _in_notebook():
    """A Jupyter kernel has imported IPython already; never import it here (it costs a
    third of a second)."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and type(ipython.get_ipython()).__name__ == "ZMQInteractiveShell"


class StageBars:
    """Stage id -> its state; a bar is made for a stage that has run SHOW_AFTER seconds."""

    def __init__(self):
        self.stages = {}          # stage -> {"start", "total", "done", "running", "bar"}

    def on_event(self, e):
        kind, stage = e["event"], e.get("stage")
        if kind == "StageSubmitted":
            self.stages[stage] = {"start": time.monotonic(), "total": e["tasks"], "done": 0,
                                  "running": 0, "bar": None}
            return
        s = self.stages.get(stage)
        if s is None:
            return
        if kind == "TaskStart":
            s["running"] += 1
        elif kind == "TaskEnd":
            s["running"] -= 1
            s["done"] += e["outcome"] == "success"
        elif kind == "StageCompleted":
            if s["bar"] is not None:
                s["bar"].close()
            del self.stages[stage]
            return
        self._draw(stage, s)

    def _draw(self, stage, s):
        shape = f"[{{desc}}:{{bar}}({s['done']} + {s['running']}) / {s['total']}]"  # Spark's
        if s["bar"] is None:
            if time.monotonic() - s["start"] < SHOW_AFTER:
                return
            from tqdm.auto import tqdm
            s["bar"] = tqdm(total=s["total"], leave=False, file=sys.stderr, ascii=" >=",
                            desc=f"Stage {stage}", bar_format=shape, initial=s["done"])
        s["bar"].n, s["bar"].bar_format = s["done"], shape
        s["bar"].refresh()
