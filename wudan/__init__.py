"""wudan (五单): the service behind the five-order closed loop of grid governance.

This package holds the entry points only (the `wudan` command); nothing imports it.
"""

from infra import __version__

__all__ = ["__version__"]
