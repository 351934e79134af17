"""The doctor's own checks (config, hall server, machine) and the collection of the device
packages' ``health.check``; each returns :class:`common.health.Check`."""
