"""congvan: digitise Vietnamese official letters into a database of tasks and deadlines."""

__version__ = "0.1.0"
