"""Example programs written against minimr's public API only (like 6.5840's mrapps).

Each runs unchanged on every executor::

    python -m examples.wordcount --executor memory --workers 2
    python -m examples.knn       --executor disk
    python -m examples.lr_sgd    --executor memory --iterations 10
    python -m examples.pi        --executor spark --samples 10000000

Without an input they generate a seeded default data set first. See docs/examples.md.
"""
