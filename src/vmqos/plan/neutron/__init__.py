"""What each Neutron QoS agent writes for a port (ML2/OVS, ML2/OVN, SR-IOV, Linux bridge), one
module
per backend behind one registry; the backends never import each other. Changes with a Neutron
agent."""
