"""The ``vmqos`` command line: a thin shell over the pure core."""
