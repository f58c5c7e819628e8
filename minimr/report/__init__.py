"""What a learner looks at, drawn from a Context's events (minimr/events.py): outside the
engine, which only records them.

    progress.py   a Spark-style console bar per running stage (tqdm)
    timeline.py   the tasks in Chrome's Trace Event format (Perfetto, chrome://tracing)
    html.py       the one-page job report: jobs, stage DAG, task timeline, shuffle matrix,
                  counters, storage
    python -m minimr.report EVENTLOG -o report.html      python -m minimr.report --counters EVENTLOG
"""
