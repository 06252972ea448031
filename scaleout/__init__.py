"""Several offices on one machine: PostgreSQL, a Prefect server, process workers, SeaweedFS and the case desk.

`make scaleout` (python -m scaleout) starts the whole set from Debian's and the project's own packages,
builds a batch of cases through the deployments, checks archive, audit chain and leaks, and stops it all.
"""
