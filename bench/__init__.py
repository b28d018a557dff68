"""Benchmarks of the KLoROS analyzer against its peers (see docs/BENCHMARKS.md).

Run through bench/run.sh; each figure runs in its own process with its own database,
state folder and analysis queue so nothing leaks between figures or into the tests.
"""
