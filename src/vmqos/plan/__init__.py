"""Plan: pure translation of intent into what a compute node does, and the explanation of it."""
