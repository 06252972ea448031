"""Prefect flows and tasks (flows.py) over the plain build pipeline (pipeline.py).

Import workflows.flows only when Prefect is needed: it configures and imports Prefect.
"""
