"""What the kernel keeps: the packet scheduler's clock and tc's tick arithmetic. Changes with a
kernel or iproute2."""
