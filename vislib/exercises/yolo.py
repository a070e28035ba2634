"""Checkers for the YOLO exercises (notebook 07): encoding targets and decoding detections."""

from __future__ import annotations

from collections.abc import Callable

import torch

from vislib._validation import check_callable

__all__ = ["check_detect", "check_encode_targets"]


# -- YOLO ------------------------------------------------------------------------------
def _yolo_cases():
    from vislib.data.shapes import ShapesDataset

    dataset = ShapesDataset(12, image_size=64, seed=11)
    cases = [(torch.tensor([[20.0, 36.0, 40.0, 52.0]]), torch.tensor([3]), 64, 4, 2, 4)]  # one hand-made box
    cases += [(t["boxes"], t["labels"], 64, 4, 2, 4) for _, t in (dataset[i] for i in range(len(dataset)))]
    cases += [
        (t["boxes"] * 7, t["labels"], 448, 7, 2, 20) for _, t in (dataset[i] for i in range(4))
    ]  # the paper's sizes
    return cases


def check_encode_targets(encode: Callable) -> int:
    """Check ``encode(boxes, labels, image_size, S, B, C) -> Tensor[S, S, B*5 + C]`` against vislib's encoder."""
    from vislib.models.yolo import encode_targets

    check_callable("encode", encode)
    cases = _yolo_cases()
    for boxes, labels, size, S, B, C in cases:
        expected, _ = encode_targets(boxes, labels, size, S, B, C)
        got = encode(boxes.clone(), labels.clone(), size, S, B, C)
        call = f"encode(<{len(boxes)} boxes>, image_size={size}, S={S}, B={B}, C={C})"
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
            raise AssertionError(
                f"{call} must return a tensor of shape {list(expected.shape)}, got "
                f"{list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}"
            )
        if torch.allclose(got.float(), expected, atol=1e-5):
            continue
        filled_expected = expected[..., 4] > 0
        filled_got = got[..., 4] > 0
        if not torch.equal(filled_got, filled_expected):
            transposed = torch.equal(filled_got, filled_expected.T)
            hint = (
                "The cells are transposed: the row comes from the centre's y, the column from its x."
                if transposed
                else "Check which cell owns each object: row = floor(cy / cell), col = floor(cx / cell); "
                "if two centres share a cell, the first object keeps it."
            )
            raise AssertionError(f"{call}: objects were put in the wrong cells. {hint}")
        row, col = [int(v[0]) for v in torch.nonzero(filled_expected, as_tuple=True)]
        got_cell, want_cell = got[row, col].float(), expected[row, col]
        if not torch.allclose(got_cell[:2], want_cell[:2], atol=1e-5):
            raise AssertionError(
                f"{call}: cell ({row}, {col}) has x, y = {got_cell[:2].tolist()}, expected "
                f"{want_cell[:2].tolist()}: the centre's offset inside its cell, in [0, 1)."
            )
        if not torch.allclose(got_cell[2:4], want_cell[2:4], atol=1e-5):
            raise AssertionError(
                f"{call}: cell ({row}, {col}) has w, h = {got_cell[2:4].tolist()}, expected "
                f"{want_cell[2:4].tolist()}: the box's width and height as fractions of the image."
            )
        raise AssertionError(
            f"{call}: cell ({row}, {col}) is {got_cell.tolist()}, expected {want_cell.tolist()}. "
            "Layout per cell: [x, y, w, h, conf] for each of the B slots, then the one-hot class "
            "(label 1 is index 0)."
        )
    return len(cases)


def check_detect(detect: Callable) -> int:
    """Check ``detect(output, image_size, conf_threshold, iou_threshold, B) -> dict(boxes, scores, labels)``."""
    from vislib.models.yolo import decode_predictions

    check_callable("detect", detect)
    generator = torch.Generator().manual_seed(5)
    checked = 0
    for S, B, C in ((4, 2, 4), (7, 2, 20), (3, 1, 2)):
        for conf, iou in ((0.05, 0.5), (0.2, 0.3), (0.0, 1.0)):
            raw = torch.rand(S, S, B * 5 + C, generator=generator)
            raw[..., 5 * B :] = torch.softmax(raw[..., 5 * B :] * 4, dim=-1)
            raw[..., 2 : 5 * B : 5] *= 0.5  # moderate widths
            raw[..., 3 : 5 * B : 5] *= 0.5
            size = S * 16
            expected = decode_predictions(raw, size, conf, iou, num_boxes=B)
            got = detect(raw.clone(), size, conf, iou, B)
            call = (
                f"detect(output [{S}, {S}, {B * 5 + C}], image_size={size}, "
                f"conf_threshold={conf}, iou_threshold={iou}, B={B})"
            )
            if not isinstance(got, dict) or not {"boxes", "scores", "labels"} <= set(got):
                raise AssertionError(f"{call} must return a dict with 'boxes', 'scores' and 'labels'")
            order = torch.argsort(expected["scores"], descending=True, stable=True)
            got_order = torch.argsort(got["scores"], descending=True, stable=True)
            if len(got["scores"]) != len(expected["scores"]):
                before_nms = decode_predictions(raw, size, conf, iou, apply_nms=False, num_boxes=B)
                hint = (
                    "That is the count before NMS: apply non-maximum suppression per class."
                    if len(got["scores"]) == len(before_nms["scores"])
                    else "Score each box with P(class | object) * P(object) for its cell's best class, keep scores "
                    ">= conf_threshold, then NMS per class (torchvision.ops.batched_nms)."
                )
                raise AssertionError(
                    f"{call} kept {len(got['scores'])} boxes, expected {len(expected['scores'])}. {hint}"
                )
            if not torch.allclose(got["scores"][got_order].float(), expected["scores"][order], atol=1e-5):
                raise AssertionError(f"{call}: scores differ; a box's score is P(class | object) * P(object).")
            if not torch.allclose(got["boxes"][got_order].float(), expected["boxes"][order], atol=1e-3):
                raise AssertionError(
                    f"{call}: boxes differ. The centre is ((col + x) * cell, (row + y) * cell) and "
                    "the size (w * image_size, h * image_size); clip boxes to the image."
                )
            if not torch.equal(got["labels"][got_order].long(), expected["labels"][order]):
                raise AssertionError(f"{call}: labels differ; labels count from 1 (class index + 1).")
            checked += 1
    return checked
