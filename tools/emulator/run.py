#!/usr/bin/env python3
"""Start the IoT Hub emulator without setting PYTHONPATH: python3 tools/emulator/run.py --help"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from iothub_emulator.__main__ import main  # noqa: E402

sys.exit(main())
