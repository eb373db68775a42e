"""Explain: how the layers of one port combine (which limit wins, per direction), and the lint
findings that need the facts of several layers. Sits on top of nova, neutron and render."""
