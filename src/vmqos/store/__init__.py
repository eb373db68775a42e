"""Persistence for the OpenStack-compatible API: SQL tables, repositories, migrations.

The store holds what Keystone, Nova, Neutron and Glance would hold for the subset vmqos
serves (identity, flavors, servers, networks, ports, QoS policies, images) in SQLite (the
default, a file in the data directory) or PostgreSQL (by URL). It validates nothing itself:
requests are validated by the core (:mod:`vmqos.intent`) before they reach a repository, and
the repositories only add what a database must guarantee under concurrency (uniqueness, one
writer at a time per object). Library exceptions (``sqlalchemy.exc.IntegrityError``) are
translated into :mod:`vmqos.errors` here, once.

:mod:`vmqos.store.cloud_reader` reads any OpenStack cloud through openstacksdk into the same
:class:`vmqos.intent.scenario.Scenario` the API builds from its tables.
"""
