"""Nova's side of intent: flavor extra specs (``quota:*``), flavors and Cinder front-end QoS specs,
parsed and validated exactly as Nova does, once, at the edge."""
