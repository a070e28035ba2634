"""Mask operations of Mask R-CNN (vislib.ops.masks) and the exercise checkers (vislib.exercises.mask_rcnn).

Oracles: torchvision's ``paste_masks_in_image`` and ``roi_heads.project_masks_on_boxes``, ``pycocotools.mask.iou``.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pycocotools import mask as mask_utils
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.models.detection.roi_heads import project_masks_on_boxes as tv_project_masks_on_boxes

from vislib.exercises.mask_rcnn import _paste_variant, check_mask_iou, check_paste_mask
from vislib.ops.masks import mask_iou, paste_masks, project_masks_on_boxes


def random_boxes(generator, n, low=-8.0, high=100.0, largest=80.0):
    """Boxes that overlap the image (torchvision's paste wraps around or fails on boxes wholly outside)."""
    corners = torch.rand(n, 2, generator=generator) * (high - low) + low
    return torch.cat([corners, corners + 10 + torch.rand(n, 2, generator=generator) * largest], dim=1)


def coco_iou(masks1, masks2):
    def encode(m):
        return mask_utils.encode(np.asfortranarray(m.numpy().astype(np.uint8).transpose(1, 2, 0)))

    return np.asarray(mask_utils.iou(encode(masks1), encode(masks2), [0] * len(masks2))).reshape(len(masks1), -1)


# --------------------------------------------------------------------------- paste_masks


@pytest.mark.parametrize(
    "size, image_size, padding", [(28, (100, 120), 1), (14, (64, 64), 1), (28, (50, 70), 2), (7, (33, 21), 0)]
)
def test_paste_masks_equals_torchvision(size, image_size, padding):
    generator = torch.Generator().manual_seed(size + padding)
    masks = torch.rand(40, 1, size, size, generator=generator)
    boxes = random_boxes(generator, 40, high=min(image_size) - 4.0)
    boxes[0] = torch.tensor([3.2, 4.7, 3.2, 9.1])  # zero width
    boxes[1] = torch.tensor([-5.5, -7.25, 200.0, 150.0])  # larger than the image
    expected = paste_masks_in_image(masks, boxes, image_size, padding=padding)
    assert torch.equal(paste_masks(masks, boxes, image_size, padding=padding), expected)
    assert torch.equal(paste_masks(masks[:, 0], boxes, image_size, padding=padding), expected)  # [N, M, M] too
    assert torch.equal(paste_masks(masks, boxes, image_size, threshold=0.5, padding=padding), expected > 0.5)


def test_paste_masks_matches_the_models_own_output():
    from vislib.models.mask_rcnn import small_mask_rcnn
    from vislib.training.mask_rcnn import predict

    torch.manual_seed(0)
    model = small_mask_rcnn(3, 64, width=8, out_channels=16, box_score_thresh=0.0)
    image = torch.rand(3, 64, 64)
    model.eval()
    with torch.no_grad():
        output = model([image])[0]
    prediction = predict(model, [image], keep_mask_probs=True)[0]
    assert len(prediction["boxes"]) > 0
    mine = paste_masks(prediction["mask_probs"], prediction["boxes"], (64, 64))[:, 0]
    assert torch.allclose(mine, output["masks"][:, 0], atol=1e-6)
    assert torch.equal(prediction["masks"], output["masks"][:, 0] > 0.5)


def test_paste_masks_outside_the_image_is_empty():
    masks = torch.ones(2, 1, 28, 28)
    boxes = torch.tensor([[200.0, 200.0, 240.0, 230.0], [-80.0, -60.0, -30.0, -20.0]])
    assert not paste_masks(masks, boxes, (64, 64)).any()


def test_paste_masks_rejects_bad_input():
    masks, boxes = torch.rand(3, 1, 28, 28), torch.tensor([[0.0, 0, 10, 10]] * 3)
    with pytest.raises(ValueError, match="masks and boxes must have the same count"):
        paste_masks(masks, boxes[:2], (32, 32))
    with pytest.raises(ValueError, match=r"masks must be \[N, 1, M, M\] or \[N, M, M\]"):
        paste_masks(torch.rand(3, 2, 28, 28), boxes, (32, 32))
    with pytest.raises(ValueError, match=r"masks must be \[N, 1, M, M\] or \[N, M, M\]"):
        paste_masks(torch.rand(3, 28, 14), boxes, (32, 32))
    with pytest.raises(ValueError, match=r"masks must be"):
        paste_masks(torch.rand(28, 28), boxes[:1], (32, 32))
    with pytest.raises(TypeError, match="masks must be a floating-point tensor"):
        paste_masks(torch.ones(3, 28, 28, dtype=torch.uint8), boxes, (32, 32))
    with pytest.raises(ValueError, match=r"boxes must be xyxy with x2 >= x1.*boxes\[1\]"):
        paste_masks(masks, torch.tensor([[0.0, 0, 10, 10], [10.0, 0, 5, 10], [0.0, 0, 1, 1]]), (32, 32))
    with pytest.raises(ValueError, match=r"boxes must have shape \[N, 4\]"):
        paste_masks(masks, torch.rand(3, 5), (32, 32))
    for bad in ((32,), (32, 0), (32, -1), "32x32", 32):
        with pytest.raises(ValueError, match=r"image_size must be \(height, width\): two positive integers"):
            paste_masks(masks, boxes, bad)
    with pytest.raises(TypeError, match="image_size must be"):
        paste_masks(masks, boxes, (32.0, 32))
    with pytest.raises(ValueError, match="threshold"):
        paste_masks(masks, boxes, (32, 32), threshold=1.5)


# --------------------------------------------------------------------------- mask targets


@pytest.mark.parametrize("M", [28, 14])
def test_mask_targets_equal_torchvisions_roi_heads(M):
    generator = torch.Generator().manual_seed(M)
    gt_masks = (torch.rand(3, 64, 80, generator=generator) > 0.5).to(torch.uint8)
    boxes = random_boxes(generator, 25, low=-4.0, high=60.0, largest=40.0)
    matched = torch.randint(0, 3, (25,), generator=generator)
    expected = tv_project_masks_on_boxes(gt_masks, boxes, matched, M)
    got = project_masks_on_boxes(gt_masks, boxes, matched, M)
    assert got.shape == (25, M, M)
    assert torch.allclose(got, expected, atol=1e-6)


def test_mask_targets_of_a_proposal_equal_to_the_box_are_the_mask_resampled():
    mask = torch.zeros(1, 32, 32, dtype=torch.uint8)
    mask[0, 8:24, 8:24] = 1
    target = project_masks_on_boxes(mask, torch.tensor([[8.0, 8.0, 24.0, 24.0]]), torch.tensor([0]), 28)
    assert torch.allclose(target[0, 2:-2, 2:-2], torch.ones(24, 24))  # the inside of the square is all object


def test_mask_targets_reject_bad_input():
    masks = torch.ones(2, 16, 16)
    with pytest.raises(ValueError, match="matched_idxs must have one index per box"):
        project_masks_on_boxes(masks, torch.tensor([[0.0, 0, 4, 4]]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="matched_idxs must index gt_masks"):
        project_masks_on_boxes(masks, torch.tensor([[0.0, 0, 4, 4]]), torch.tensor([2]))
    with pytest.raises(ValueError, match="gt_masks must be a 3-D tensor"):
        project_masks_on_boxes(masks[0], torch.tensor([[0.0, 0, 4, 4]]), torch.tensor([0]))


# --------------------------------------------------------------------------- mask IoU


def test_mask_iou_equals_pycocotools():
    generator = torch.Generator().manual_seed(0)
    masks1 = torch.rand(6, 30, 40, generator=generator) > torch.rand(6, 1, 1, generator=generator)
    masks2 = torch.rand(4, 30, 40, generator=generator) > torch.rand(4, 1, 1, generator=generator)
    masks1[0] = False
    masks2[1] = False  # empty masks: IoU 0, as pycocotools
    assert np.allclose(mask_iou(masks1, masks2).numpy(), coco_iou(masks1, masks2), atol=1e-12)
    assert np.allclose(mask_iou(masks1.to(torch.uint8), masks2.float()).numpy(), coco_iou(masks1, masks2))
    assert mask_iou(masks1, masks2).shape == (6, 4)


def test_mask_iou_rejects_bad_input():
    with pytest.raises(ValueError, match="masks1 and masks2 must have the same image size"):
        mask_iou(torch.zeros(2, 8, 8, dtype=torch.bool), torch.zeros(2, 8, 9, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"masks1 must be binary masks \[N, H, W\]"):
        mask_iou(torch.zeros(8, 8, dtype=torch.bool), torch.zeros(2, 8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="masks2 must be binary"):
        mask_iou(torch.zeros(2, 8, 8, dtype=torch.bool), torch.full((2, 8, 8), 0.5))
    with pytest.raises(TypeError, match="masks1 must be a torch.Tensor"):
        mask_iou(np.zeros((2, 8, 8)), torch.zeros(2, 8, 8))


# --------------------------------------------------------------------------- exercise checkers


def reference_mask_iou(masks1, masks2):
    a, b = masks1.flatten(1).double(), masks2.flatten(1).double()
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.zeros_like(union))


def test_check_mask_iou_accepts_a_correct_solution():
    assert check_mask_iou(reference_mask_iou) >= 7
    assert check_mask_iou(mask_iou) >= 7


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b: reference_mask_iou(a, b).T, "You returned \\[M, N\\]"),
        (
            lambda a, b: (
                (a.flatten(1).double() @ b.flatten(1).double().T)
                / (a.flatten(1).sum(1)[:, None] + b.flatten(1).sum(1)[None]).double()
            ),
            "union 0|forgot to subtract",
        ),
        (
            lambda a, b: torch.nan_to_num(
                2
                * (a.flatten(1).double() @ b.flatten(1).double().T)
                / (a.flatten(1).sum(1)[:, None] + b.flatten(1).sum(1)[None]).double()
            ),
            "Dice coefficient",
        ),
        (
            lambda a, b: torch.nan_to_num(
                (a.flatten(1).double() @ b.flatten(1).double().T) / a.flatten(1).sum(1)[:, None].double()
            ),
            "area of masks1 only",
        ),
        (
            lambda a, b: (
                (a.flatten(1).double() @ b.flatten(1).double().T)
                / (
                    a.flatten(1).sum(1)[:, None]
                    + b.flatten(1).sum(1)[None]
                    - a.flatten(1).double() @ b.flatten(1).double().T
                )
            ),
            "NaN",
        ),
        (lambda a, b: reference_mask_iou(a, b)[:, 0], r"must return \[N, M\]"),
    ],
)
def test_check_mask_iou_names_the_mistake(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_mask_iou(wrong)


def reference_paste_mask(mask, box, image_size):
    return _paste_variant(mask, box, image_size)


def test_check_paste_mask_accepts_a_correct_solution():
    assert check_paste_mask(reference_paste_mask) >= 10
    assert check_paste_mask(lambda mask, box, size: paste_masks(mask[None], torch.tensor([box]), size)[0, 0]) >= 10


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(padding=0), "Pad the mask with one zero"),
        (dict(to_int=round), "not to the nearest integer"),
        (dict(to_int=lambda v: int(np.floor(v))), r"not down \(floor\)"),
        (dict(plus_one=0), "x2 - x1 \\+ 1"),
        (dict(align_corners=True), "align_corners=False"),
    ],
)
def test_check_paste_mask_names_the_mistake(change, message):
    with pytest.raises(AssertionError, match=message):
        check_paste_mask(lambda mask, box, size: _paste_variant(mask, box, size, **change))


def test_check_paste_mask_rejects_a_wrong_shape():
    with pytest.raises(AssertionError, match=r"must return an \[H, W\]"):
        check_paste_mask(
            lambda mask, box, size: torch.zeros(size[1], size[0]) if size[0] != size[1] else torch.zeros(3)
        )
    with pytest.raises(AssertionError, match="Follow the four steps"):
        check_paste_mask(lambda mask, box, size: F.pad(torch.zeros(size), (0, 0, 0, 0)) + 0.01)


def test_the_mask_iou_checkers_oracle_is_pycocotools():
    from vislib.exercises.mask_rcnn import _coco_mask_iou, _mask_iou_cases

    for _, masks1, masks2 in _mask_iou_cases():
        assert np.allclose(_coco_mask_iou(masks1, masks2).numpy(), coco_iou(masks1, masks2), atol=1e-12)
