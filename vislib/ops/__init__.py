"""Box operations with torchvision.ops' signatures and conventions (xyxy boxes).

Teaching implementations, readable first, proven equal to ``torchvision.ops``
by ``tests/test_boxes.py``.
"""

from vislib.ops.boxes import batched_nms, box_area, box_convert, box_iou, nms

__all__ = ["batched_nms", "box_area", "box_convert", "box_iou", "nms"]

# RoI Pool / RoI Align (Fast R-CNN, Mask R-CNN): torchvision.ops' signatures, proven equal by tests/test_roi.py.
from vislib.ops.roi import (  # noqa: E402
    RoIAlignGeometry,
    RoIPoolGeometry,
    bilinear_interpolate,
    misalignment_pixels,
    roi_align,
    roi_align_geometry,
    roi_pool,
    roi_pool_geometry,
)

__all__ += [
    "RoIAlignGeometry",
    "RoIPoolGeometry",
    "bilinear_interpolate",
    "misalignment_pixels",
    "roi_align",
    "roi_align_geometry",
    "roi_pool",
    "roi_pool_geometry",
]
