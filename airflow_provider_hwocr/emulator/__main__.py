"""``python -m airflow_provider_hwocr.emulator``: run the emulator until Ctrl-C or SIGTERM.

The options live in :mod:`airflow_provider_hwocr.emulator.cli`; ``hwocr-emulator --help`` lists them.
"""

from __future__ import annotations

import sys

from airflow_provider_hwocr.emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
