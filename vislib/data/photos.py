"""scikit-image's bundled photos (no download), the one loader every notebook and widget uses.

:func:`load_photo` gives a colour photo as ``Tensor[3, H, W]`` in [0, 1]; :func:`load_grey_photo` the same photo
in grey as a float64 NumPy array, optionally cropped and resized to a square.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from vislib._validation import (
    check_choice,
    check_int,
    check_rgb_image,
)

__all__ = ["ASTRONAUT_HEAD", "load_grey_photo", "load_photo", "PHOTOS"]

PHOTOS = ("astronaut", "chelsea", "coffee")
"""scikit-image's bundled colour photos (no download)."""


def load_photo(name: str = "astronaut", size: int | None = None) -> Tensor:
    """One of scikit-image's bundled colour photos (:data:`PHOTOS`) as ``Tensor[3, H, W]`` in [0, 1].

    ``size`` (optional) resizes the longer side to ``size`` pixels (area averaging), keeping the aspect ratio.
    """
    check_choice("name", name, PHOTOS)
    from skimage import data

    picture = getattr(data, name)()
    if size is not None:
        import cv2

        size = check_int("size", size, min_value=16, max_value=4096)
        height, width = picture.shape[:2]
        scale = size / max(height, width)
        picture = cv2.resize(picture, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return check_rgb_image("photo", picture)


ASTRONAUT_HEAD = (20, 110, 288)
"""``(top, left, side)`` of the square around the astronaut's head in the 512 x 512 photo."""


def load_grey_photo(name: str = "astronaut", size: int = 256, crop: tuple[int, int, int] | None = None) -> np.ndarray:
    """``float64[size, size]`` in [0, 1]: one of :data:`PHOTOS` in grey (scikit-image's ``rgb2gray``), cropped to
    ``crop = (top, left, side)`` if given (e.g. :data:`ASTRONAUT_HEAD`) and resized with anti-aliasing."""
    check_choice("name", name, PHOTOS)
    size = check_int("size", size, min_value=4, max_value=512)
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    image = rgb2gray(getattr(data, name)())
    if crop is not None:
        top, left, side = crop
        image = image[top : top + side, left : left + side]
    return resize(image, (size, size), anti_aliasing=True)
