"""What more than one test directory needs, in one copy: importable as ``support`` from any
test (pyproject.toml puts tests/ on pytest's ``pythonpath``).

* :mod:`support.proc`: running the standard tools (``sh``), the network namespaces they list,
  the installed ``vmqos`` entry point.
* :mod:`support.seed`: the seed lab's inputs (flavor properties, bandwidth, servers, fixture
  paths) and the note's captured command output.
* :mod:`support.libvirt_vectors`: libvirt's own unit-test vectors for ``virNetDevBandwidthSet``.

Nothing here is a fixture: fixtures stay in each directory's conftest.py.
"""
