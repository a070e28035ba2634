"""Data for the segmentation notebook's context experiment: shapes whose class only the whole scene decides.

PSPNet's pyramid pooling (Zhao et al. 2017, arXiv 1612.01105) gives every position a summary of the whole
image. It can only matter when a pixel's class depends on something *outside* the pixel's receptive field,
as a boat-shaped region on water is a boat and on a road a car. :class:`ContextShapesDataset` builds that
situation on purpose, with nothing else to exploit:

* every image is a *scene* of one of two kinds, shown only by a coloured **frame** along the image border
  (:data:`SCENES`: warm hues (red to orange) or cool hues (cyan to blue));
* inside, 1 to 3 shapes (circle, square, triangle, star: any kind, any colour, any rotation) on the textured
  background of :mod:`vislib.data.shapes`, kept in the central part of the image, far from the frame;
* a shape's pixels get the class of the scene (:data:`CONTEXT_CLASSES`): 1 in a warm-framed scene,
  2 in a cool-framed one; background and frame are class 0.

Locally, a shape in a warm scene and one in a cool scene look exactly alike (same kinds, sizes and colours,
drawn from the same distributions): a network that cannot see the frame from a shape's pixels can only guess.
With ``image_size = 128`` and ``margin = 0.3`` the shapes' centres lie 38 px or more from the border (32 px or
more from the frame), so the shape's centre is out of reach of the frame for a network whose field is 64 px
or less across (:func:`frame_distance` measures it per pixel).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from vislib._validation import check_index, check_int, check_number, check_type
from vislib.data.shapes import _background, _colour, class_names

__all__ = ["CONTEXT_CLASSES", "SCENES", "ContextShapesDataset", "frame_distance", "render_context_sample"]

#: The two kinds of scene, in label order (a shape in scene ``s`` has class ``s + 1``).
SCENES = ("warm frame", "cool frame")

#: Class names of the semantic masks: label 0 is the background (and the frame).
CONTEXT_CLASSES = ("background", "shape, warm scene", "shape, cool scene")

#: OpenCV hue ranges (0..179) of the frame colour per scene: reds to oranges, cyans to blues.
_SCENE_HUES = ((0, 18), (95, 125))


class ContextShapesDataset(Dataset):
    """Shapes labelled by the scene they are in, the scene shown only by a coloured frame.

    Args:
        num_images (int): number of images.
        image_size (int): height and width in pixels (at least 64).
        seed (int): sample ``i`` is drawn from ``np.random.default_rng((seed, i))``.
        frame_width (int): the frame's width in pixels (default 6).
        margin (float): shapes' centres lie in ``[margin, 1 - margin] * image_size`` (default 0.3).
        min_objects, max_objects (int): shapes per image (default 1 to 3).

    ``dataset[i]`` is ``(image, target)``: ``image`` float Tensor[3, H, W] in ``[0, 1]``;
    ``target["semantic_mask"]`` int64 Tensor[H, W] (0 background and frame, 1 / 2 shapes in a warm / cool
    scene); ``target["scene"]`` the scene's index (0 warm, 1 cool); ``target["image_id"]`` ``i``.
    """

    classes = CONTEXT_CLASSES[1:]

    def __init__(
        self,
        num_images: int,
        image_size: int = 128,
        seed: int = 0,
        frame_width: int = 6,
        margin: float = 0.3,
        min_objects: int = 1,
        max_objects: int = 3,
    ):
        self.num_images = check_int("num_images", num_images, min_value=0)
        self.image_size = check_int("image_size", image_size, min_value=64, max_value=4096)
        self.seed = check_int("seed", seed, min_value=0)
        self.frame_width = check_int("frame_width", frame_width, min_value=1, max_value=self.image_size // 8)
        self.margin = check_number("margin", margin, min_value=0.0, max_value=0.4)
        self.min_objects = check_int("min_objects", min_objects, min_value=1)
        self.max_objects = check_int("max_objects", max_objects, min_value=1, max_value=10)
        if self.max_objects < self.min_objects:
            raise ValueError(f"max_objects must be >= min_objects ({self.min_objects}), got {self.max_objects}")

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int):
        index = check_index(index, self.num_images)
        sample = render_context_sample(
            np.random.default_rng((self.seed, index)),
            self.image_size,
            self.frame_width,
            self.margin,
            self.min_objects,
            self.max_objects,
        )
        chw = np.ascontiguousarray(sample["image"].transpose(2, 0, 1), dtype=np.float32) * np.float32(1 / 255)
        target = {
            "semantic_mask": torch.from_numpy(sample["semantic_mask"]),
            "scene": sample["scene"],
            "image_id": index,
        }
        return torch.from_numpy(chw), target

    def __repr__(self) -> str:
        return (
            f"ContextShapesDataset(num_images={self.num_images}, image_size={self.image_size}, seed={self.seed}, "
            f"frame_width={self.frame_width}, margin={self.margin}, min_objects={self.min_objects}, "
            f"max_objects={self.max_objects})"
        )


def render_context_sample(rng, image_size, frame_width=6, margin=0.3, min_objects=1, max_objects=3) -> dict:
    """Draw one scene: ``image`` (uint8 [H, W, 3]), ``semantic_mask`` (int64 [H, W]), ``scene`` (0 or 1),
    ``kinds`` (the shapes' names, in drawing order)."""
    import cv2

    check_type("rng", rng, np.random.Generator, "a numpy.random.Generator (np.random.default_rng(seed))")
    image_size = check_int("image_size", image_size, min_value=64)
    frame_width = check_int("frame_width", frame_width, min_value=1, max_value=image_size // 8)
    margin = check_number("margin", margin, min_value=0.0, max_value=0.4)
    min_objects = check_int("min_objects", min_objects, min_value=1)
    max_objects = check_int("max_objects", max_objects, min_value=min_objects)
    image = _background(rng, image_size)
    scene = int(rng.integers(len(SCENES)))
    low, high = _SCENE_HUES[scene]
    hsv = np.array([[[rng.integers(low, high + 1), rng.integers(200, 256), rng.integers(200, 256)]]], np.uint8)
    frame_colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.int16)
    frame = np.ones((image_size, image_size), dtype=bool)
    frame[frame_width:-frame_width, frame_width:-frame_width] = False
    image[frame] = np.clip(frame_colour + rng.normal(0, 8, (int(frame.sum()), 3)), 0, 255).astype(np.uint8)

    semantic = np.zeros((image_size, image_size), dtype=np.int64)
    kinds = []
    for _ in range(int(rng.integers(min_objects, max_objects + 1))):
        kind = class_names[int(rng.integers(len(class_names)))]
        radius = rng.uniform(0.06, 0.12) * image_size
        cx, cy = rng.uniform(margin, 1 - margin, 2) * image_size
        mask = _polygon_mask(kind, image_size, cx, cy, radius, rng.uniform(0, 2 * math.pi))
        colour = _colour(rng).astype(np.int16)
        image[mask] = np.clip(colour + rng.normal(0, 10, (int(mask.sum()), 3)), 0, 255).astype(np.uint8)
        semantic[mask] = scene + 1
        kinds.append(kind)
    return {"image": image, "semantic_mask": semantic, "scene": scene, "kinds": kinds}


def frame_distance(image_size: int, frame_width: int = 6) -> np.ndarray:
    """``int [H, W]``: each pixel's chessboard distance to the nearest frame pixel (0 on the frame).

    A unit whose receptive field is ``r`` pixels across (centred on the pixel) sees the frame only where
    this distance is at most ``r // 2``.
    """
    image_size = check_int("image_size", image_size, min_value=2)
    frame_width = check_int("frame_width", frame_width, min_value=1, max_value=image_size // 2)
    position = np.arange(image_size)
    to_edge = np.minimum(position, image_size - 1 - position)  # distance to the image's border, per row
    to_border = np.minimum(to_edge[:, None], to_edge[None, :])
    return np.maximum(to_border - frame_width + 1, 0)


def _polygon_mask(kind: str, size: int, cx: float, cy: float, radius: float, rotation: float) -> np.ndarray:
    """bool [size, size]: a shape of ``kind`` centred at ``(cx, cy)`` (as :mod:`vislib.data.shapes` draws it)."""
    import cv2

    mask = np.zeros((size, size), dtype=np.uint8)
    if kind == "circle":
        cv2.circle(mask, (int(round(cx)), int(round(cy))), int(round(radius)), 1, thickness=-1)
        return mask.astype(bool)
    if kind == "square":
        angles, radii = rotation + np.arange(4) * (math.pi / 2), np.full(4, radius)
    elif kind == "triangle":
        angles, radii = rotation + np.arange(3) * (2 * math.pi / 3), np.full(3, radius * 1.15)
    else:  # star: 5 outer points, 5 inner ones
        angles = rotation + np.arange(10) * (math.pi / 5)
        radii = np.where(np.arange(10) % 2 == 0, radius * 1.2, radius * 0.5)
    points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(bool)
