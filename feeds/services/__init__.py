"""Services of the feeds app: params (validating run parameters), instances (creating, cancelling and
deleting runs and feeds), jobs (running, watching, registering outputs, reconciling)."""
