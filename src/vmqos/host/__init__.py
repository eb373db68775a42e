"""The host layer: observe and change this Linux host (netlink, tc, cgroupfs, loop devices).

Everything here is I/O around the pure plan layer: :mod:`facts` probes what the kernel offers,
:mod:`sandbox` builds and removes instances without a hypervisor, :mod:`apply` runs a
:class:`vmqos.reconcile.host_plan.HostPlan` as one transaction per instance (observe through
:mod:`netlink`/:mod:`tc_observe` and :mod:`cgroupfs`, reconcile, one ``tc -batch`` through
:mod:`runner`, read back, roll back on failure). Library and OS exceptions become vmqos errors
in :mod:`errors_map` only.
"""
