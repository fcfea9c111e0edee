"""The stages one document flows through, in order:

    load -> preprocess -> ocr -> restore -> extract -> store

Each is a function from one typed value (`pipeline.core.types`) to the next.
"""
