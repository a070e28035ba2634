"""vislib.ops.boxes equals torchvision.ops on random boxes and on the edge cases."""

import pytest
import torch
import torchvision.ops as tv

from vislib import ops


def random_boxes(n, seed, dtype=torch.float32, scale=100.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale / 3
    return torch.cat([xy, xy + wh], dim=1).to(dtype)


def random_scores(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed + 1000)
    return torch.rand(n, generator=g, dtype=torch.float64).to(dtype)


SIZES = [0, 1, 2, 7, 50, 300]
SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_box_iou_and_area_equal_torchvision(n, seed):
    for dtype in (torch.float32, torch.float64):
        a = random_boxes(n, seed, dtype)
        b = random_boxes(n // 2 + 3, seed + 17, dtype)
        assert torch.equal(ops.box_area(a), tv.box_area(a))
        ours, theirs = ops.box_iou(a, b), tv.box_iou(a, b)
        assert ours.shape == (n, n // 2 + 3) and ours.dtype == theirs.dtype
        assert torch.equal(ours, theirs)


def test_integer_boxes_are_upcast_like_torchvision():
    boxes = torch.tensor([[0, 0, 10, 10], [5, 5, 15, 15], [0, 0, 200, 200]], dtype=torch.int16)
    assert torch.equal(ops.box_area(boxes), tv.box_area(boxes))
    assert ops.box_area(boxes).dtype == torch.int32  # 200 * 200 would overflow int16
    assert torch.equal(ops.box_iou(boxes, boxes), tv.box_iou(boxes, boxes))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_equals_torchvision(n, seed, threshold):
    boxes = random_boxes(n, seed)
    scores = random_scores(n, seed)
    ours = ops.nms(boxes, scores, threshold)
    assert ours.dtype == torch.int64
    assert torch.equal(ours, tv.nms(boxes, scores, threshold))


@pytest.mark.parametrize("seed", SEEDS)
def test_nms_ties_in_score_are_resolved_like_torchvision(seed):
    # Scores drawn from 3 values: many ties. torchvision's CPU kernel sorts stably (input order).
    boxes = random_boxes(200, seed)
    g = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 3, (200,), generator=g).float()
    for threshold in (0.1, 0.5):
        assert torch.equal(ops.nms(boxes, scores, threshold), tv.nms(boxes, scores, threshold))
    same = torch.full((200,), 0.5)
    assert torch.equal(ops.nms(boxes, same, 0.5), tv.nms(boxes, same, 0.5))


@pytest.mark.parametrize("n", [0, 1, 30, 400])
@pytest.mark.parametrize("seed", SEEDS)
def test_batched_nms_equals_torchvision(n, seed):
    boxes = random_boxes(n, seed)
    scores = random_scores(n, seed)
    idxs = torch.randint(0, 4, (n,), generator=torch.Generator().manual_seed(seed))
    for threshold in (0.2, 0.5):
        ours = ops.batched_nms(boxes, scores, idxs, threshold)
        assert torch.equal(ours, tv.batched_nms(boxes, scores, idxs, threshold))


def test_batched_nms_never_suppresses_across_categories():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert ops.batched_nms(boxes, scores, torch.tensor([0, 1, 0]), 0.5).tolist() == [0, 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_box_convert_equals_torchvision(seed):
    xyxy = random_boxes(40, seed, torch.float64)
    for in_fmt in ("xyxy", "xywh", "cxcywh"):
        boxes = tv.box_convert(xyxy, "xyxy", in_fmt)
        for out_fmt in ("xyxy", "xywh", "cxcywh"):
            ours = ops.box_convert(boxes, in_fmt, out_fmt)
            assert torch.equal(ours, tv.box_convert(boxes, in_fmt, out_fmt)), (in_fmt, out_fmt)
            assert ours is not boxes
    # A worked example: the box from (10, 20) to (40, 60).
    box = torch.tensor([[10.0, 20, 40, 60]])
    assert ops.box_convert(box, "xyxy", "xywh").tolist() == [[10, 20, 30, 40]]
    assert ops.box_convert(box, "xyxy", "cxcywh").tolist() == [[25, 40, 30, 40]]


# --------------------------------------------------------------------------- edge cases


def test_touching_boxes_have_iou_zero():
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[10.0, 0, 20, 10], [0, 10, 10, 20], [10, 10, 20, 20]])  # share an edge or a corner
    assert ops.box_iou(a, b).tolist() == [[0.0, 0.0, 0.0]]
    assert torch.equal(ops.box_iou(a, b), tv.box_iou(a, b))


def test_identical_boxes_have_iou_one_and_suppress_each_other():
    boxes = torch.tensor([[1.0, 2, 5, 9]] * 3)
    assert torch.equal(ops.box_iou(boxes, boxes), torch.ones(3, 3))
    scores = torch.tensor([0.2, 0.9, 0.5])
    assert ops.nms(boxes, scores, 0.99).tolist() == [1] == tv.nms(boxes, scores, 0.99).tolist()
    # IoU 1 is not > 1: a threshold of 1 keeps every box.
    assert ops.nms(boxes, scores, 1.0).tolist() == [1, 2, 0] == tv.nms(boxes, scores, 1.0).tolist()


def test_zero_area_boxes():
    boxes = torch.tensor([[5.0, 5, 5, 5], [5, 5, 5, 5], [0, 0, 10, 10], [2, 2, 8, 2]])
    ours, theirs = ops.box_iou(boxes, boxes), tv.box_iou(boxes, boxes)
    # Two zero-area boxes: 0 / 0 = nan, in torchvision too. A zero-area box in a real box: 0.
    assert torch.isnan(ours[0, 1]) and ours[0, 2] == 0 and ours[3, 2] == 0
    assert torch.equal(torch.isnan(ours), torch.isnan(theirs))
    assert torch.equal(ours.nan_to_num(-1.0), theirs.nan_to_num(-1.0))
    assert ops.box_area(boxes).tolist() == [0, 0, 100, 0]
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    # NaN > threshold is False: zero-area boxes are never suppressed (nor suppress).
    assert ops.nms(boxes, scores, 0.5).tolist() == tv.nms(boxes, scores, 0.5).tolist() == [0, 1, 2, 3]


def test_iou_exactly_at_the_threshold_is_kept():
    # [0, 0, 2, 1] and [0, 0, 1, 1]: intersection 1, union 2, IoU exactly 0.5 (representable).
    # [0, 0, 4, 1] and [0, 0, 3, 1]: IoU 3/4 = 0.75 exactly.
    boxes = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1], [10, 0, 14, 1], [10, 0, 13, 1]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    iou = ops.box_iou(boxes, boxes)
    assert iou[0, 1] == 0.5 and iou[2, 3] == 0.75
    for threshold, expected in [(0.5, [0, 1, 2]), (0.75, [0, 1, 2, 3]), (0.4999, [0, 2])]:
        assert ops.nms(boxes, scores, threshold).tolist() == expected
        assert tv.nms(boxes, scores, threshold).tolist() == expected


def test_empty_inputs():
    empty = torch.zeros(0, 4)
    assert ops.box_iou(empty, random_boxes(3, 0)).shape == (0, 3)
    assert ops.box_iou(random_boxes(3, 0), empty).shape == (3, 0)
    kept = ops.nms(empty, torch.zeros(0), 0.5)
    assert kept.shape == (0,) and kept.dtype == torch.int64
    kept = ops.batched_nms(empty, torch.zeros(0), torch.zeros(0, dtype=torch.long), 0.5)
    assert kept.shape == (0,) and kept.dtype == torch.int64


# --------------------------------------------------------------------------- bad input


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"boxes1 must have shape \[N, 4\], got \[3, 5\]"):
        ops.box_iou(torch.zeros(3, 5), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="boxes2 must be a torch.Tensor"):
        ops.box_iou(torch.zeros(3, 4), [[0, 0, 1, 1]])
    bad = torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1], [5, 0, 1, 4]])
    with pytest.raises(ValueError, match=r"boxes must satisfy x2 >= x1 and y2 >= y1; box 2 is \[5, 0, 1, 4\]"):
        ops.nms(bad, torch.rand(3), 0.5)
    with pytest.raises(ValueError, match=r"boxes must be finite; box 1 is \[0, nan, 1, 1\]"):
        ops.box_area(torch.tensor([[0.0, 0, 1, 1], [0, float("nan"), 1, 1]]))
    with pytest.raises(ValueError, match=r"scores must have one score per box \(3 boxes\), got 2"):
        ops.nms(random_boxes(3, 0), torch.rand(2), 0.5)
    with pytest.raises(ValueError, match="scores must not contain NaN; score 1 is NaN"):
        ops.nms(random_boxes(3, 0), torch.tensor([0.1, float("nan"), 0.3]), 0.5)
    with pytest.raises(TypeError, match="scores must be a floating-point tensor"):
        ops.nms(random_boxes(3, 0), torch.tensor([1, 2, 3]), 0.5)
    with pytest.raises(TypeError, match="iou_threshold must be a real number"):
        ops.nms(random_boxes(3, 0), torch.rand(3), "0.5")
    with pytest.raises(ValueError, match="iou_threshold must be finite"):
        ops.nms(random_boxes(3, 0), torch.rand(3), float("nan"))
    with pytest.raises(ValueError, match="in_fmt must be one of 'xyxy', 'xywh', 'cxcywh'; got 'xxyy'"):
        ops.box_convert(random_boxes(3, 0), "xxyy", "xyxy")
    with pytest.raises(ValueError, match=r"boxes must satisfy w >= 0 and h >= 0; box 0 is \[0, 0, -1, 2\]"):
        ops.box_convert(torch.tensor([[0.0, 0, -1, 2]]), "xywh", "xyxy")
    with pytest.raises(ValueError, match=r"idxs must have one index per box \(3 boxes\), got 4"):
        ops.batched_nms(random_boxes(3, 0), torch.rand(3), torch.zeros(4, dtype=torch.long), 0.5)
    with pytest.raises(TypeError, match="idxs must be an integer tensor"):
        ops.batched_nms(random_boxes(3, 0), torch.rand(3), torch.zeros(3), 0.5)
    with pytest.raises(TypeError, match="boxes must hold real numbers"):
        ops.box_area(torch.zeros(2, 4, dtype=torch.bool))
