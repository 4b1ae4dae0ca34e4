"""The benchmarks are scripts run by ``python -m tests.benchmarks.run``, never collected by pytest."""

collect_ignore_glob = ["*"]
