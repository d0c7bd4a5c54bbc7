"""Synthetic demo data and the demo workflow.  Nothing else in the package imports this."""
