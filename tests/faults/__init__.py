"""Fault injection: builds killed mid-way, the object store stopped mid-upload, corrupted objects, lost keys, full disks."""
