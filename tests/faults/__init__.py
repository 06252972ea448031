"""Fault injection: builds killed mid-way, the store stopped mid-upload, corrupted objects, lost keys, full disks."""
