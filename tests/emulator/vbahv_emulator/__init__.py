"""Stateful emulator of the Veeam Plug-in for Nutanix AHV v7 REST API."""

__version__ = "0.1.0"
