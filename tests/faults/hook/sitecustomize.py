"""Loaded by Python at start-up when this folder is on PYTHONPATH: lets a test SIGKILL the real CLI mid-write.

Active only when DOSSIER_FAULT_KILL_AT_WRITE=N is set: the process kills itself just before its Nth write
under DOSSIER_HOME (and a file store's folder), exactly as tests/faults/build_driver.py does.
"""

import os
import sys

if os.environ.get("DOSSIER_FAULT_KILL_AT_WRITE"):
    from tests.faults.build_driver import WriteWatch, watched_roots

    sys.addaudithook(WriteWatch(watched_roots(), int(os.environ["DOSSIER_FAULT_KILL_AT_WRITE"])))
