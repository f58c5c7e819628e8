"""The driver's scheduler: one action -> stages -> tasks -> results (Spark's DAGScheduler,
in one function), and the retry rule, in one place for every executor.

    run_job(ctx, node, func, partitions)
      1. for each shuffle the final stage reads (plan.parent_shuffles), make sure its map
         outputs exist: if the executor already has them from an earlier job the stage is
         *skipped* (Spark reuses shuffle files the same way); otherwise run the map stage,
         after first making sure of *its* parent shuffles (recursion = topological order);
      2. run the result stage's tasks; return their values in partition order;
      3. ctx._after_job: write the checkpoints this lineage asked for (Spark does it
         after the job too, with jobs of their own).

    run_stage(tasks)   executor.run_tasks(tasks) -> one outcome per task attempt
      TaskResult        done; merge its accumulator updates (successful attempts only)
      TaskFailure       user error: try again, until the task has failed ctx.maxFailures
                        times (spark.task.maxFailures; a MinimrError such as an
                        unpicklable result is not retried); then fail the job with the
                        user's exception type, the engine context as a note, the remote
                        traceback as __cause__. An attempt whose worker was killed from
                        outside (SIGKILL, SIGTERM, SIGINT) is retried without counting,
                        as Spark does for an executor lost for a reason not caused by
                        the task; the executor bounds such losses (executors/process.py)
      fetch failure     a map output is gone: re-run just the missing map tasks, then the
                        reduce task again (does not count against maxFailures; a stage
                        gives up when its outputs keep vanishing: after MAX_STAGE_ATTEMPTS
                        (or maxFailures, if larger) fetch failures a task with no task
                        succeeding meanwhile, like spark.stage.maxConsecutiveAttempts)

The executor decides *where* and *how* tasks run; the scheduler decides *what* runs and
*when*. The executor interface is small:

    executor.run_tasks(tasks, stage)     -> list of TaskResult | TaskFailure (same order);
                                            kills, losses, copies counted into `stage`
    executor.missing_outputs(shuffle)    -> map partitions whose output is not available
    executor.unpersist(rdd_id), executor.stop(), executor.default_parallelism

RDD actions (actions.py) and Context.runJob call run_job.
"""

import dataclasses
import time

from . import plan
from .errors import MinimrError, RemoteTraceback
from .task import Task, TaskFailure

MAX_STAGE_ATTEMPTS = 4


def run_job(ctx, node, func, partitions=None):
    """Run `func(iterator)` on each listed partition of `node`; return the values."""
    if ctx._stopped:
        raise MinimrError("this Context has been stopped; start a new one")
    partitions = list(range(node.num_partitions)) if partitions is None else list(partitions)
    if not partitions:
        return []                       # nothing to compute: no job (Spark skips it too)
    job = {"job": len(ctx._jobs), "group": ctx.getLocalProperty("spark.jobGroup.id"),
           "description": ctx.getLocalProperty("spark.job.description"), "stages": [],
           "started": time.time()}
    ctx._jobs.append(job)
    ctx.events.emit("JobStart", job=job["job"], rdd=node.label())
    try:
        for sh in plan.parent_shuffles(node):
            _ensure_shuffle(ctx, job, sh)
        stage_id = next(ctx._stage_ids)
        tasks = [Task(stage_id, p, 0, node, func=func, num_attempts=ctx.maxFailures)
                 for p in partitions]
        results = _run_stage(ctx, job, tasks, "result")
    except BaseException:
        ctx.events.emit("JobEnd", job=job["job"], result="failed")
        raise
    job["seconds"] = time.time() - job["started"]
    ctx.events.emit("JobEnd", job=job["job"], result="succeeded", seconds=job["seconds"])
    ctx._after_job(node)                # checkpoints the job's datasets asked for
    return [r.value for r in results]


def _ensure_shuffle(ctx, job, sh):
    """Make every map output of shuffle `sh` available, running only what is missing."""
    missing = ctx._executor.missing_outputs(sh)
    name = f"map for shuffle {sh.shuffle_id}"
    if not missing:            # an earlier job made them: the stage is skipped (Spark too)
        ctx.events.emit("StageCompleted", job=job["job"], stage=next(ctx._stage_ids),
                        name=name, status="skipped", **_shape(sh.parent, sh))
        return
    for parent in plan.parent_shuffles(sh.parent):
        _ensure_shuffle(ctx, job, parent)
    stage_id = next(ctx._stage_ids)
    tasks = [Task(stage_id, p, 0, sh.parent, shuffle=sh, num_attempts=ctx.maxFailures)
             for p in missing]
    _run_stage(ctx, job, tasks, name)


def _shape(node, shuffle):
    """A stage for its events: the shuffle it writes, those it reads, its datasets."""
    nodes = plan.narrow_ancestors(node)
    return {"writes": shuffle and shuffle.shuffle_id, "rdds": [n.label() for n in nodes],
            "reads": [n.shuffle_id for n in nodes if plan.reads_shuffle(n)],
            "cached": [n.id for n in nodes if n.storage is not None]}


def _run_stage(ctx, job, tasks, kind):
    stage = {"stage": tasks[0].stage_id if tasks else None, "kind": kind,
             "tasks": len(tasks), "attempts": 0}
    job["stages"].append(stage)
    ctx.events.emit("StageSubmitted", job=job["job"], stage=stage["stage"], name=kind,
                    tasks=len(tasks), **_shape(tasks[0].node, tasks[0].shuffle))
    try:
        results = _run_tasks(ctx, job, stage, tasks)
    except BaseException:
        ctx.events.emit("StageCompleted", job=job["job"], stage=stage["stage"], status="failed")
        raise
    ctx.events.emit("StageCompleted", job=job["job"], stage=stage["stage"],
                    status="succeeded", attempts=stage["attempts"])
    return results


def _run_tasks(ctx, job, stage, tasks):
    """Run the stage's tasks until each has succeeded; retry, or fail the job."""
    start = time.perf_counter()
    results = {}
    pending = tasks
    fetch_rounds = 0
    while pending:
        outcomes = ctx._executor.run_tasks(pending, stage)
        stage["attempts"] += len(pending)
        retry = []
        for task, out in zip(pending, outcomes):
            if not isinstance(out, TaskFailure):
                results[task.partition] = out
                fetch_rounds = 0                       # progress: failures counted anew
                for key, v in out.metrics.items():     # executors' own counters/timers
                    stage[key] = stage.get(key, 0) + v
                for aid, update in out.accumulators.items():
                    ctx._accumulators[aid]._merge(update)
                continue
            if out.fetch_failed is not None:
                ff = out.fetch_failed
                ctx.events.emit("FetchFailed", job=job["job"], **task.ids(),
                                shuffle=ff.shuffle_id, map=ff.map_id, reason=ff.why)
                fetch_rounds += 1
                stage["failed_shuffle"] = stage.get("failed_shuffle", 0) + 1
                if fetch_rounds > max(MAX_STAGE_ATTEMPTS, ctx.maxFailures) * len(tasks):
                    raise_task_failure(task, out)
                _ensure_shuffle(ctx, job, next(sh for sh in plan.parent_shuffles(task.node)
                                               if sh.shuffle_id == ff.shuffle_id))
                retry.append(task)                     # the same attempt, once it can read
                continue
            # the attempt that failed last (a speculative copy runs as the next number)
            task = dataclasses.replace(task, attempt=max(task.attempt, out.attempt or 0))
            if not out.counted or (task.failures + 1 < ctx.maxFailures and not _deterministic(out)):
                retry.append(dataclasses.replace(task, attempt=task.attempt + 1,
                                                 failures=task.failures + out.counted))
            else:
                raise_task_failure(task, out)
        pending = retry
    stage["wall_seconds"] = time.perf_counter() - start
    return [results[t.partition] for t in tasks]


def _deterministic(failure):
    """minimr's own refusals inside a task (an unpicklable result, a lost block of a
    local checkpoint) would fail the same way again; a lost worker or a user's exception
    might not."""
    return isinstance(failure.exception, MinimrError) and not failure.worker_lost


def raise_task_failure(task, failure: TaskFailure):
    """Raise the user's exception as the driver sees it: same type, engine context in a
    note ("stage 1, partition 3, attempt 4 of 4"), remote traceback as __cause__."""
    exc = failure.exception
    exc.add_note(f"minimr: {task.describe()} failed"
                 + (" (its worker process died)" if failure.worker_lost else ""))
    exc.__traceback__ = None
    raise exc from RemoteTraceback(failure.traceback)
