"""Load test of the whole site (issue #10): `python -m bench.load --help`."""
