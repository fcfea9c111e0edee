"""The core every other room builds on: typed values, errors and exit codes,
settings, the plug-in registry, Vietnamese text helpers, file handling.

Imports run one way: core <- extractors <- stages <- engines/jobs <- cli.
Nothing in `core` imports from another room.
"""
