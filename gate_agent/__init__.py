"""Toolgate's Raspberry Pi agent: switches a machine's power relay for a badge the site allows.

Standalone: it imports no Django, so it installs on a Pi with paho-mqtt and its hardware libraries.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("toolgate")
except PackageNotFoundError:  # running from a source checkout that was never installed
    __version__ = "0+unknown"
