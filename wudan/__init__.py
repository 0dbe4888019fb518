"""wudan (五单): the service behind the five-order closed loop of grid governance."""

__version__ = "0.1.0"
