"""What Nova's libvirt driver makes of a flavor: the domain's ``<cputune>``, ``<iotune>`` and
``<bandwidth>`` as values. Changes with a Nova release."""
