"""A synthetic, offline detection data set: coloured shapes on a noisy background.

``ShapesDataset(n)`` draws image ``i`` from a random generator seeded with
``(seed, i)``, so every sample is the same on every machine and in any order,
and needs no download. Each image holds 1 to 4 shapes (circles, squares,
triangles, stars) of random size, colour, position and rotation, drawn one
after the other, so later shapes hide parts of earlier ones, on a textured,
noisy background.

Annotations describe what is *visible*:

* an object's instance mask is its visible pixels (its shape minus the shapes
  drawn over it), and its box is the bounding box of that mask;
* an object hidden by more than 70 % (:data:`MAX_OCCLUSION`) has no annotation
  at all (its few visible pixels count as background in the semantic mask),
  the rule COCO-style data sets use for fragments too small to label. The last
  shape drawn is never hidden, so every image has at least one object.

Box convention (torchvision's): ``(x1, y1, x2, y2)`` in continuous pixel
coordinates, where pixel ``(row r, column c)`` covers ``[c, c+1] x [r, r+1]``;
so a mask covering columns 3..7 has ``x1 = 3, x2 = 8``, and a one-pixel mask a
box of area 1. Labels number the classes from 1 (0 is the background).

Converters: :func:`to_coco` / :func:`from_coco` (a COCO ground-truth dict with
RLE masks, loadable by pycocotools) and :func:`to_voc_xml` (PASCAL VOC XML).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from vislib._validation import check_choice, check_index, check_int, check_number, check_tensor, check_type
from vislib.ops.rle import polygons_to_mask, rle_counts, rle_decode, rle_encode

__all__ = [
    "class_names",
    "detection_collate",
    "from_coco",
    "masks_to_boxes",
    "MAX_OCCLUSION",
    "render_sample",
    "ShapesDataset",
    "to_coco",
    "to_voc_xml",
]

class_names = ("circle", "square", "triangle", "star")
"""The shapes the data set can draw; label ``k`` (from 1) is ``classes[k - 1]``."""

MAX_OCCLUSION = 0.7
"""An object hidden by more than this fraction of its area gets no annotation."""


class ShapesDataset(Dataset):
    """Synthetic shapes for detection and segmentation.

    Args:
        num_images (int): number of images.
        image_size (int): height and width in pixels (at least 32).
        seed (int): sample ``i`` is drawn from ``np.random.default_rng((seed, i))``.
        min_objects, max_objects (int): number of shapes drawn per image (before occlusion).
        classes (tuple of str): the shapes to use, a subset of :data:`class_names`, in label order.

    ``dataset[i]`` is ``(image, target)``:

    * ``image``: float Tensor[3, H, W] in ``[0, 1]``;
    * ``target["boxes"]``: float Tensor[N, 4], ``(x1, y1, x2, y2)``, bounding boxes of the visible masks;
    * ``target["labels"]``: int64 Tensor[N], classes numbered from 1;
    * ``target["masks"]``: uint8 Tensor[N, H, W], visible instance masks (disjoint);
    * ``target["semantic_mask"]``: int64 Tensor[H, W], each pixel's label, 0 for background;
    * ``target["image_id"]``: int, equal to ``i``.
    """

    def __init__(
        self,
        num_images: int,
        image_size: int = 128,
        seed: int = 0,
        min_objects: int = 1,
        max_objects: int = 4,
        classes: Sequence[str] = class_names,
    ):
        self.num_images = check_int("num_images", num_images, min_value=0)
        self.image_size = check_int("image_size", image_size, min_value=32, max_value=4096)
        self.seed = check_int("seed", seed, min_value=0)
        self.min_objects = check_int("min_objects", min_objects, min_value=1)
        self.max_objects = check_int("max_objects", max_objects, min_value=1, max_value=20)
        if self.max_objects < self.min_objects:
            raise ValueError(f"max_objects must be >= min_objects ({self.min_objects}), got {self.max_objects}")
        check_type("classes", classes, (tuple, list), "a tuple of shape names")
        classes = tuple(classes)
        if not classes:
            raise ValueError("classes must name at least one shape")
        for name in classes:
            if name not in class_names:
                raise ValueError(f"classes must be taken from {', '.join(map(repr, class_names))}; got {name!r}")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must not repeat a shape, got {classes}")
        self.classes = classes

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int):
        index = check_index(index, self.num_images)
        sample = self.render(index)
        return _to_tensors(sample["image"], sample["masks"], sample["labels"], index)

    def render(self, index: int) -> dict:
        """Sample ``index`` as numpy arrays, with the occluded and dropped shapes too (see :func:`render_sample`)."""
        return render_sample(
            np.random.default_rng((self.seed, index)),
            self.image_size,
            self.min_objects,
            self.max_objects,
            len(self.classes),
            [class_names.index(name) for name in self.classes],
        )

    def __repr__(self) -> str:
        return (
            f"ShapesDataset(num_images={self.num_images}, image_size={self.image_size}, seed={self.seed}, "
            f"min_objects={self.min_objects}, max_objects={self.max_objects}, classes={self.classes})"
        )


# --------------------------------------------------------------------------- drawing


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured background: a colour gradient, blurry blobs and pixel noise. uint8 [H, W, 3]."""
    import cv2

    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    gradient = math.cos(angle) * ramp[None, :] + math.sin(angle) * ramp[:, None]  # [H, W]
    base = rng.uniform(60, 170, 3).astype(np.float32)
    tilt = rng.uniform(-40, 40, 3).astype(np.float32)
    image = base + gradient[..., None] * tilt  # [H, W, 3]
    coarse = rng.normal(0, 18, (6, 6, 3)).astype(np.float32)  # low-frequency texture
    image += cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0, 8, (size, size, 3)).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _shape_mask(rng: np.random.Generator, shape: str, size: int) -> np.ndarray:
    """The full (unoccluded) mask of one randomly placed shape: uint8 [H, W] of 0/1."""
    import cv2

    radius = rng.uniform(0.08, 0.22) * size
    cx = rng.uniform(radius, size - radius)
    cy = rng.uniform(radius, size - radius)
    rotation = rng.uniform(0, 2 * math.pi)
    mask = np.zeros((size, size), dtype=np.uint8)
    if shape == "circle":
        cv2.circle(mask, (int(round(cx)), int(round(cy))), int(round(radius)), 1, thickness=-1)
        return mask
    if shape == "square":
        angles = rotation + np.arange(4) * (math.pi / 2)
        radii = np.full(4, radius)
    elif shape == "triangle":
        angles = rotation + np.arange(3) * (2 * math.pi / 3)
        radii = np.full(3, radius * 1.15)
    else:  # star: 5 outer points, 5 inner ones
        angles = rotation + np.arange(10) * (math.pi / 5)
        radii = np.where(np.arange(10) % 2 == 0, radius * 1.2, radius * 0.5)
    points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A saturated colour, clearly off the background's greys. uint8 [3]."""
    import cv2

    hsv = np.array([[[rng.integers(0, 180), rng.integers(170, 256), rng.integers(170, 256)]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def render_sample(rng, image_size, min_objects, max_objects, num_classes, shape_indices) -> dict:
    """Draw one image, shapes in drawing order.

    Returns:
        dict: ``image`` (uint8 [H, W, 3]); for the ``N`` annotated objects ``masks``
        (visible, bool [N, H, W]) and ``labels`` (int64 [N]); for all ``S`` shapes
        drawn, ``full_masks`` (bool [S, H, W], unoccluded), ``visible_masks``
        (bool [S, H, W]), ``all_labels`` (int64 [S]) and ``kept`` (bool [S]: annotated).
    """
    check_type("rng", rng, np.random.Generator, "a numpy.random.Generator (np.random.default_rng(seed))")
    image = _background(rng, image_size)
    count = int(rng.integers(min_objects, max_objects + 1))
    full_masks, labels = [], []
    for _ in range(count):
        label = int(rng.integers(num_classes)) + 1
        mask = _shape_mask(rng, class_names[shape_indices[label - 1]], image_size).astype(bool)
        colour = _colour(rng).astype(np.int16)
        shade = rng.normal(0, 10, (int(mask.sum()), 3))  # a little texture on the shape too
        image[mask] = np.clip(colour + shade, 0, 255).astype(np.uint8)
        full_masks.append(mask)
        labels.append(label)
    # Visible part = the shape minus every shape drawn after it.
    visible = []
    covered = np.zeros((image_size, image_size), dtype=bool)
    for mask in reversed(full_masks):
        visible.append(mask & ~covered)
        covered |= mask
    visible.reverse()
    kept = [
        j
        for j, (full, seen) in enumerate(zip(full_masks, visible))
        if seen.any() and seen.sum() >= (1 - MAX_OCCLUSION) * full.sum()
    ]
    empty = np.zeros((0, image_size, image_size), bool)
    return {
        "image": image,
        "masks": np.stack([visible[j] for j in kept]) if kept else empty,
        "labels": np.asarray([labels[j] for j in kept], dtype=np.int64),
        "full_masks": np.stack(full_masks) if full_masks else empty,
        "visible_masks": np.stack(visible) if visible else empty,
        "all_labels": np.asarray(labels, dtype=np.int64),
        "kept": np.isin(np.arange(count), kept),
    }


def masks_to_boxes(masks: np.ndarray) -> np.ndarray:
    """Bounding boxes ``(x1, y1, x2, y2)`` of masks ``[N, H, W]`` in the pixel-edge convention -> float32 [N, 4]."""
    if hasattr(masks, "detach"):
        masks = masks.detach().cpu().numpy()
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks must be [N, H, W], got shape {list(masks.shape)}")
    boxes = np.zeros((len(masks), 4), dtype=np.float32)
    for k, mask in enumerate(masks):
        rows = np.flatnonzero(mask.any(axis=1))
        columns = np.flatnonzero(mask.any(axis=0))
        if len(rows):
            boxes[k] = (columns[0], rows[0], columns[-1] + 1, rows[-1] + 1)
    return boxes


def _to_tensors(image: np.ndarray, masks: np.ndarray, labels: np.ndarray, image_id: int):
    semantic = np.zeros(image.shape[:2], dtype=np.int64)
    for mask, label in zip(masks, labels):
        semantic[mask] = label  # the visible masks are disjoint
    target = {
        "boxes": torch.from_numpy(masks_to_boxes(masks)),
        "labels": torch.from_numpy(labels),
        "masks": torch.from_numpy(masks.astype(np.uint8)),
        "semantic_mask": torch.from_numpy(semantic),
        "image_id": image_id,
    }
    chw = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) * np.float32(1 / 255)  # [3, H, W]
    return torch.from_numpy(chw), target


def detection_collate(batch):
    """``collate_fn`` for detection: images stacked to ``[B, 3, H, W]``, targets kept as a list.

    Detection targets differ in size from image to image (N objects), so they
    cannot be stacked: ``DataLoader(dataset, batch_size=8, collate_fn=detection_collate)``.
    """
    check_type("batch", batch, (list, tuple), "a list of (image, target) pairs")
    if not batch:
        raise ValueError("batch must not be empty")
    images, targets = [], []
    for i, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"batch[{i}] must be an (image, target) pair")
        image, target = item
        check_tensor(f"batch[{i}] image", image, ndim=3)
        if image.shape != batch[0][0].shape:
            raise ValueError(
                f"all images must have the same shape to be stacked; batch[{i}] is {list(image.shape)}, "
                f"batch[0] is {list(batch[0][0].shape)}"
            )
        images.append(image)
        targets.append(target)
    return torch.stack(images), targets


# --------------------------------------------------------------------------- COCO


def _names_of(dataset, names):
    if names is None:
        names = getattr(dataset, "classes", None)
    if names is None:
        raise ValueError("class_names is needed: the data set has no `classes` attribute")
    return tuple(names)


def to_coco(dataset, class_names: Sequence[str] | None = None) -> dict:
    """A COCO ground-truth dict of the whole data set, loadable by ``pycocotools.coco.COCO``.

    * ``images``: ``id`` (the sample's ``image_id``), ``width``, ``height``, ``file_name``;
    * ``annotations``: ``id`` (from 1), ``image_id``, ``category_id`` (= the label),
      ``bbox`` ``[x, y, w, h]`` (the box of the visible mask), ``area`` (the visible mask's
      pixel count, not the box's), ``iscrowd = 0``, ``segmentation`` as an uncompressed RLE
      ``{"counts": [...], "size": [h, w]}`` (column-major, as COCO);
    * ``categories``: ``id`` (label), ``name``, ``supercategory``.

    Args:
        dataset: a :class:`ShapesDataset`, or any sequence of ``(image, target)`` in its format.
        class_names: names of labels 1, 2, ...; default ``dataset.classes``.
    """
    names = _names_of(dataset, class_names)
    images, annotations = [], []
    for index in range(len(dataset)):
        image, target = dataset[index]
        height, width = int(image.shape[-2]), int(image.shape[-1])
        image_id = int(target["image_id"])
        images.append({"id": image_id, "width": width, "height": height, "file_name": f"{image_id:06d}.png"})
        masks = target["masks"].numpy().astype(bool)
        for box, label, mask in zip(target["boxes"].tolist(), target["labels"].tolist(), masks):
            if not 1 <= label <= len(names):
                raise ValueError(f"image {image_id} has label {label}, outside 1..{len(names)} (class_names)")
            x1, y1, x2, y2 = box
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": int(mask.sum()),
                    "iscrowd": 0,
                    "segmentation": rle_encode(mask),
                }
            )
    categories = [{"id": k + 1, "name": name, "supercategory": "shape"} for k, name in enumerate(names)]
    return {
        "info": {"description": "vislib synthetic shapes"},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def from_coco(coco: dict) -> list[dict]:
    """Per-image targets from a COCO ground-truth dict, in the order of ``coco["images"]``.

    Each target has ``image_id``, ``boxes`` (float32 Tensor[N, 4], xyxy), ``labels``
    (int64 Tensor[N], the ``category_id``), ``masks`` (uint8 Tensor[N, H, W], decoded from
    RLE, either form, or polygons; the image needs ``height`` and ``width``), ``area``
    (float64 Tensor[N]) and ``iscrowd`` (uint8 Tensor[N]).
    """
    check_type("coco", coco, dict, "a COCO ground-truth dict")
    for key in ("images", "annotations"):
        if key not in coco:
            raise ValueError(f"coco has no {key!r} key")
        check_type(f"coco[{key!r}]", coco[key], list, "a list of dicts")
    per_image = {}
    for i, image in enumerate(coco["images"]):
        where = f"coco['images'][{i}]"
        check_type(where, image, dict, "a dict with 'id', 'height' and 'width'")
        for key in ("id", "height", "width"):
            if key not in image:
                raise ValueError(f"{where} has no {key!r} key")
        _check_coco_id(f"{where}['id']", image["id"], strings=True)
        check_int(f"{where}['height']", image["height"], min_value=1)
        check_int(f"{where}['width']", image["width"], min_value=1)
        if image["id"] in per_image:
            raise ValueError(f"coco['images'] ids must be unique; id {image['id']!r} appears more than once")
        per_image[image["id"]] = []
    categories = None
    if "categories" in coco:
        check_type("coco['categories']", coco["categories"], list, "a list of dicts with 'id'")
        categories = set()
        for i, category in enumerate(coco["categories"]):
            if not isinstance(category, dict) or "id" not in category:
                raise ValueError(f"coco['categories'][{i}] must be a dict with an 'id', got {category!r}")
            categories.add(_check_coco_id(f"coco['categories'][{i}]['id']", category["id"]))
    sizes = {image["id"]: (image["height"], image["width"]) for image in coco["images"]}
    for i, ann in enumerate(coco["annotations"]):
        where = f"coco['annotations'][{i}]"
        check_type(where, ann, dict, "a dict with 'image_id', 'category_id' and 'bbox'")
        for key in ("image_id", "category_id", "bbox"):
            if key not in ann:
                raise ValueError(f"{where} has no {key!r} key")
        if not isinstance(ann["image_id"], (int, str)) or ann["image_id"] not in per_image:
            raise ValueError(f"{where}['image_id'] refers to unknown image id {ann['image_id']!r}")
        category = _check_coco_id(f"{where}['category_id']", ann["category_id"])
        if categories is not None and category not in categories:
            raise ValueError(f"{where}['category_id'] refers to unknown category id {category}")
        _check_coco_bbox(f"{where}['bbox']", ann["bbox"])
        if "area" in ann:
            check_number(f"{where}['area']", ann["area"], min_value=0.0)
        if "iscrowd" in ann:
            check_choice(f"{where}['iscrowd']", ann["iscrowd"], (0, 1))
        segmentation = ann.get("segmentation")
        if isinstance(segmentation, dict):
            _, rh, rw = rle_counts(segmentation, f"{where}['segmentation']")
            if (rh, rw) != sizes[ann["image_id"]]:
                raise ValueError(
                    f"{where}['segmentation']['size'] must be the image's [height, width] = "
                    f"{list(sizes[ann['image_id']])}, got [{rh}, {rw}]"
                )
        elif segmentation is not None and not isinstance(segmentation, list):
            raise TypeError(f"{where}['segmentation'] must be an RLE dict or a list of polygons, got {segmentation!r}")
        per_image[ann["image_id"]].append(ann)
    targets = []
    for image in coco["images"]:
        h, w = int(image["height"]), int(image["width"])
        anns = per_image[image["id"]]
        boxes = torch.tensor(
            [[x, y, x + bw, y + bh] for x, y, bw, bh in (a["bbox"] for a in anns)], dtype=torch.float32
        )
        masks = []
        for a in anns:
            segmentation = a.get("segmentation")
            if segmentation is None:
                masks.append(np.zeros((h, w), np.uint8))
            elif isinstance(segmentation, list):
                masks.append(polygons_to_mask(segmentation, h, w, name=f"segmentation of annotation {a.get('id')}"))
            else:
                masks.append(rle_decode(segmentation, f"segmentation of annotation {a.get('id')}"))
        targets.append(
            {
                "image_id": image["id"],
                "boxes": boxes.reshape(-1, 4),
                "labels": torch.tensor([int(a["category_id"]) for a in anns], dtype=torch.int64),
                "masks": torch.from_numpy(np.stack(masks)) if masks else torch.zeros((0, h, w), dtype=torch.uint8),
                "area": torch.tensor([float(a.get("area", 0)) for a in anns], dtype=torch.float64),
                "iscrowd": torch.tensor([int(a.get("iscrowd", 0)) for a in anns], dtype=torch.uint8),
            }
        )
    return targets


def _check_coco_id(name: str, value, strings: bool = False):
    """An integer id (a whole float such as ``1.0`` counts, as in pycocotools), or with ``strings`` a str."""
    if strings and isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return check_int(name, value)


def _check_coco_bbox(name: str, bbox) -> None:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        raise ValueError(f"{name} must be [x, y, width, height] (4 numbers), got {bbox!r}")
    for j, value in enumerate(bbox):
        check_number(f"{name}[{j}]", value)
    if bbox[2] < 0 or bbox[3] < 0:
        raise ValueError(f"{name} must have width >= 0 and height >= 0, got {bbox!r}")


# --------------------------------------------------------------------------- PASCAL VOC


def to_voc_xml(target: dict, filename: str, size, class_names: Sequence[str]) -> str:
    """A PASCAL VOC annotation (the XML of ``Annotations/<name>.xml``) for one image.

    VOC boxes are **1-based, inclusive integer pixel indices**: ``xmin`` is the
    first pixel column inside the object counting from 1 and ``xmax`` the last.
    From vislib's continuous box ``(x1, y1, x2, y2)`` (pixel ``c`` covers
    ``[c, c+1]``) that is ``xmin = x1 + 1`` and ``xmax = x2``, so
    ``xmax - xmin + 1 = x2 - x1``: the devkit's "+ 1" widths. Non-integer boxes
    are rounded first. ``truncated`` is 1 when the box touches the image border.

    Args:
        target (dict): with ``boxes`` (Tensor[N, 4], xyxy) and ``labels`` (Tensor[N], from 1).
        filename (str): the image's file name.
        size (tuple[int, int]): ``(height, width)`` of the image.
        class_names (Sequence[str]): name of label 1, 2, ...
    """
    check_type("target", target, dict, "a target dict with 'boxes' and 'labels'")
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a sequence of names (of labels 1, 2, ...), got {class_names!r}")
    check_type("filename", filename, str, "a file name (str)")
    for key in ("boxes", "labels"):
        if key not in target:
            raise ValueError(f"target has no {key!r} key")
    check_tensor("target['boxes']", target["boxes"], shape=("N", 4))
    check_tensor("target['labels']", target["labels"], shape=("N",))
    if len(target["labels"]) != len(target["boxes"]):
        raise ValueError(
            f"target['labels'] must have one label per box ({len(target['boxes'])}), got {len(target['labels'])}"
        )
    check_type("filename", filename, str, "a str")
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    height = check_int("size[0] (height)", size[0], min_value=1)
    width = check_int("size[1] (width)", size[1], min_value=1)
    names = tuple(class_names)

    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = filename
    source = ET.SubElement(root, "source")
    ET.SubElement(source, "database").text = "vislib synthetic shapes"
    size_element = ET.SubElement(root, "size")
    ET.SubElement(size_element, "width").text = str(width)
    ET.SubElement(size_element, "height").text = str(height)
    ET.SubElement(size_element, "depth").text = "3"
    ET.SubElement(root, "segmented").text = "1" if "masks" in target else "0"
    for k, (box, label) in enumerate(zip(target["boxes"].tolist(), target["labels"].tolist())):
        if not 1 <= int(label) <= len(names):
            raise ValueError(f"target['labels'][{k}] is {label}, outside 1..{len(names)} (class_names)")
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise ValueError(
                f"target['boxes'][{k}] must lie inside the {width}x{height} image with x2 > x1 and y2 > y1, got {box}"
            )
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = names[int(label) - 1]
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "1" if x1 == 0 or y1 == 0 or x2 == width or y2 == height else "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in (("xmin", x1 + 1), ("ymin", y1 + 1), ("xmax", x2), ("ymax", y2)):
            ET.SubElement(bndbox, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
