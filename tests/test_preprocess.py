"""Stage preprocess: pages come out upright-ready, straight and clean."""

from __future__ import annotations

import numpy as np
from pagemaker import render_page, rotate

from pipeline.preprocess import detect_quarter_turn, estimate_skew, is_blank, preprocess_page, upscale


def test_low_resolution_photo_is_upscaled_to_300_dpi() -> None:
    image, dpi = upscale(render_page(dpi=100), 100)
    assert dpi == 300
    assert image.shape[1] == 3 * render_page(dpi=100).shape[1]


def test_page_lying_on_its_side_is_detected() -> None:
    page = render_page()
    assert detect_quarter_turn(page) == 0
    assert detect_quarter_turn(rotate(page, 90)) == 90
    assert detect_quarter_turn(rotate(page, 270)) == 90


def test_skew_is_measured_and_removed() -> None:
    skewed = rotate(render_page(), 3)  # counter-clockwise, as a page fed crooked
    assert abs(estimate_skew(skewed) - 3) < 0.6
    prepared = preprocess_page(skewed)
    assert abs(prepared.deskewed_by - 3) < 0.6


def test_blank_and_noise_only_pages_are_blank() -> None:
    white = np.full((3000, 2400), 255, np.uint8)
    assert is_blank(white)
    speckle = white.copy()
    speckle[np.random.default_rng(1).random(white.shape) > 0.99995] = 0
    assert is_blank(speckle)
    assert not is_blank(render_page())


def test_even_scan_stays_grey_for_tesseract() -> None:
    page = render_page(noise=25)
    prepared = preprocess_page(page)
    assert len(np.unique(prepared.image)) > 2  # anti-aliased edges kept for the recogniser
    assert prepared.image.shape == page.shape


def test_photo_in_uneven_light_is_binarised_with_dark_text() -> None:
    page = render_page().astype(np.float32)
    shadow = np.linspace(0.35, 1.0, page.shape[1], dtype=np.float32)  # darker towards the left edge
    photo = (page * shadow[None, :]).astype(np.uint8)
    prepared = preprocess_page(photo)
    assert set(np.unique(prepared.image)) <= {0, 255}
    assert (prepared.image == 255).mean() > 0.8  # the shadow went white with the paper
