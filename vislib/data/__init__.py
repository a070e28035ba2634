"""Offline data sets for the notebooks (nothing is downloaded).

* :mod:`vislib.data.shapes`: synthetic coloured shapes with boxes, instance and semantic masks,
  and converters to COCO and PASCAL VOC annotations.
"""

from vislib.data.shapes import (
    ShapesDataset,
    class_names,
    detection_collate,
    from_coco,
    masks_to_boxes,
    to_coco,
    to_voc_xml,
)

__all__ = [
    "ShapesDataset",
    "class_names",
    "detection_collate",
    "from_coco",
    "masks_to_boxes",
    "to_coco",
    "to_voc_xml",
]
