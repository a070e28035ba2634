"""Property-based tests (hypothesis): the ops that mirror torchvision equal it on random valid input, and the
COCO round trip (to_coco -> from_coco, rle_encode -> rle_decode) loses nothing (issue 20).

``max_examples`` is small so that the suite stays fast on two CPU cores; each run draws new examples.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vislib.data.shapes import ShapesDataset, from_coco, to_coco
from vislib.ops.boxes import batched_nms, box_iou, nms
from vislib.ops.rle import rle_decode, rle_encode
from vislib.ops.roi import roi_align, roi_pool

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def boxes(draw, min_size=0, max_size=40, grid=None):
    """Valid xyxy boxes; with ``grid`` the corners lie on a coarse grid (many ties and IoUs equal to thresholds)."""
    n = draw(st.integers(min_size, max_size))
    if grid:
        corners = draw(st.lists(st.integers(0, grid), min_size=4 * n, max_size=4 * n))
        values = torch.tensor(corners, dtype=torch.float32).reshape(n, 4) * 4
    else:
        corners = draw(st.lists(st.floats(0, 100, width=32), min_size=4 * n, max_size=4 * n))
        values = torch.tensor(corners, dtype=torch.float32).reshape(n, 4)
    x1, x2 = torch.minimum(values[:, 0], values[:, 2]), torch.maximum(values[:, 0], values[:, 2])
    y1, y2 = torch.minimum(values[:, 1], values[:, 3]), torch.maximum(values[:, 1], values[:, 3])
    return torch.stack([x1, y1, x2 + 1, y2 + 1], dim=1)  # + 1: no zero-area box (torchvision's NaN IoU)


def scores_for(draw, n, ties):
    if ties:  # few distinct values: equal scores must keep their input order
        return torch.tensor(draw(st.lists(st.sampled_from([0.25, 0.5, 0.75]), min_size=n, max_size=n)))
    return torch.tensor(draw(st.lists(st.floats(0, 1, width=32), min_size=n, max_size=n)), dtype=torch.float32)


@FAST
@given(boxes(), boxes())
def test_box_iou_equals_torchvision(a, b):
    torch.testing.assert_close(box_iou(a, b), torchvision.ops.box_iou(a, b), equal_nan=True)


@FAST
@given(st.data(), st.booleans(), st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]))
def test_nms_equals_torchvision(data, ties, threshold):
    b = data.draw(boxes(grid=6 if ties else None))
    s = scores_for(data.draw, len(b), ties)
    assert torch.equal(nms(b, s, threshold), torchvision.ops.nms(b, s, threshold))


@FAST
@given(st.data(), st.sampled_from([0.3, 0.5]))
def test_batched_nms_equals_torchvision(data, threshold):
    b = data.draw(boxes(grid=6))
    s = scores_for(data.draw, len(b), ties=True)
    idxs = torch.tensor(data.draw(st.lists(st.integers(0, 3), min_size=len(b), max_size=len(b))), dtype=torch.long)
    assert torch.equal(batched_nms(b, s, idxs, threshold), torchvision.ops.batched_nms(b, s, idxs, threshold))


@st.composite
def rois(draw, images=2, size=64.0):
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        x1, y1 = draw(st.floats(-8, size, width=32)), draw(st.floats(-8, size, width=32))
        w, h = draw(st.floats(0, size, width=32)), draw(st.floats(0, size, width=32))
        rows.append([float(draw(st.integers(0, images - 1))), x1, y1, x1 + w, y1 + h])
    return torch.tensor(rows, dtype=torch.float32).reshape(n, 5)


FEATURES = torch.rand(2, 3, 10, 12, generator=torch.Generator().manual_seed(0))


@FAST
@given(
    rois(),
    st.integers(1, 4),
    st.sampled_from([0.125, 0.25, 0.5]),
    st.integers(-1, 3),
    st.booleans(),
)
def test_roi_align_equals_torchvision(r, output_size, scale, sampling_ratio, aligned):
    ours = roi_align(FEATURES, r, output_size, scale, sampling_ratio, aligned)
    theirs = torchvision.ops.roi_align(FEATURES, r, output_size, scale, sampling_ratio, aligned)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@FAST
@given(rois(), st.integers(1, 4), st.sampled_from([0.125, 0.25, 0.5]))
def test_roi_pool_equals_torchvision(r, output_size, scale):
    torch.testing.assert_close(
        roi_pool(FEATURES, r, output_size, scale), torchvision.ops.roi_pool(FEATURES, r, output_size, scale)
    )


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 1000), st.sampled_from([32, 48, 64]))
def test_coco_round_trip_keeps_every_box_label_and_mask(seed, size):
    dataset = ShapesDataset(3, image_size=size, seed=seed)
    targets = from_coco(to_coco(dataset))
    for (_, target), back in zip(dataset, targets):
        assert back["image_id"] == int(target["image_id"])
        torch.testing.assert_close(back["boxes"], target["boxes"].float())
        assert torch.equal(back["labels"], target["labels"])
        assert torch.equal(back["masks"], target["masks"])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 12), st.integers(0, 12), st.integers(0, 2**32 - 1), st.booleans())
def test_rle_round_trip_and_pycocotools(height, width, seed, compressed):
    from pycocotools import mask as coco_mask

    mask = (np.random.default_rng(seed).random((height, width)) < 0.4).astype(np.uint8)
    rle = rle_encode(mask, compressed=compressed)
    assert np.array_equal(rle_decode(rle), mask)
    if height and width and compressed:
        theirs = coco_mask.encode(np.asfortranarray(mask))
        assert rle["counts"] == theirs["counts"].decode()
