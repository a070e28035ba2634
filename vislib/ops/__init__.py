"""Box operations with torchvision.ops' signatures and conventions (xyxy boxes).

Teaching implementations, readable first, proven equal to ``torchvision.ops``
by ``tests/test_boxes.py``.
"""

from vislib.ops.boxes import batched_nms, box_area, box_convert, box_iou, nms

__all__ = ["batched_nms", "box_area", "box_convert", "box_iou", "nms"]
