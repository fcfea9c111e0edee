"""OCR engines: each turns a page image into words with boxes and confidences.

Engines are plug-ins (entry point group `congvan.ocr_engines`); the built-in
Tesseract engines register through the same path, see `pipeline.core.plugins`.
"""
