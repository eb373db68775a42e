"""vmqos: OpenStack VM quality of service, from intent to every compute-node artifact.

The package is layered; dependencies point inward only (import-linter checks it, and
docs/architecture.md draws it): ``cli``/``api`` entry points; ``ops`` jobs; ``verify``
measurement; ``host``/``store`` I/O; the pure ``reconcile``/``observe``; the pure ``plan``
(explain, server_plan > nova, neutron > render > kernel); the pure ``intent`` (nova, neutron);
and the vocabulary (``units``, ``model``, ``errors``, ``libvirt_types``, ``limits``,
``profile``, ``jsonable``).
"""

__version__ = "0.1.0"
