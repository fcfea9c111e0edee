"""Stage preprocess: pages come out upright-ready, straight and clean."""

from __future__ import annotations

import numpy as np
from pagemaker import render_page, rotate

from pipeline.stages.preprocess import detect_quarter_turn, estimate_skew, is_blank, preprocess_page, upscale


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


def test_output_is_binary_with_dark_text() -> None:
    prepared = preprocess_page(render_page(noise=25))
    assert set(np.unique(prepared.image)) <= {0, 255}
    assert (prepared.image == 255).mean() > 0.8
