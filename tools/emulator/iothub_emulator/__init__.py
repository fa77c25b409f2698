"""A local emulator of the Azure IoT Hub service API (jobs), for tests and demos.

Run it with ``python3 tools/emulator/run.py`` or ``python3 -m iothub_emulator``;
see ``tools/emulator/README.md``.
"""
