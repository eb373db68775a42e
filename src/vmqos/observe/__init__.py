"""Pure parsers of what a host reports (``virsh`` output, ``tc show`` text and JSON) and the diff
of a
running domain against its plan. No I/O: the host layer runs the commands."""
