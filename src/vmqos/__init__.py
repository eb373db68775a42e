"""vmqos: OpenStack VM quality of service, from intent to every compute-node artifact.

The package is layered; dependencies point inward only (checked by import-linter):

* ``vmqos.cli``                          entry points, thin
* ``vmqos.plan``                         pure: intent -> plan -> artifacts, explain
* ``vmqos.intent``                       pure: parse and validate flavors and Neutron QoS
* ``vmqos.model``, ``vmqos.units``, ``vmqos.errors``  the vocabulary
"""

__version__ = "0.1.0"
