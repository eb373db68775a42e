"""Pure host reconciliation: what a host offers (facts), the program vmqos enforces on it (strategy,
with substitutions where the kernel lacks what libvirt uses), the host plan of an instance, the
observed state model, and the diff from observed to desired as a list of actions. Changes with a
host; no I/O (the host layer observes and applies)."""
