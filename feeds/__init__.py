"""Feeds and plugin instances (runs): creating runs from validated parameters, the job state machine,
running jobs through the runners, registering outputs, cancelling and deleting."""
