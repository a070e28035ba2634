"""COCO's run-length encoding (RLE) of binary masks, and its polygons, in numpy.

A COCO mask ``{"size": [h, w], "counts": ...}`` lists the lengths of
alternating runs of 0s and 1s, **starting with 0s**, over the pixels read in
*column-major* order (down the first column, then down the second...). So the
mask ``[[0, 1], [0, 1]]`` is ``counts = [2, 2]``: two 0s (column 0), two 1s.

``counts`` comes in two forms:

* *uncompressed*: a list of ints (what ``iscrowd=1`` annotations use);
* *compressed*: a string, pycocotools' LEB128-like code: each count (from the
  fourth on, minus the count two before it) is written 5 bits at a time, least
  significant group first, as characters ``chr(48 + bits)`` with bit ``0x20``
  meaning "more groups follow" and bit ``0x10`` of the last group the sign.

These functions reproduce ``pycocotools.mask`` (``encode``, ``decode``,
``area``, ``frPyObjects`` for polygons) exactly, without its C extension, so
that vislib never needs pycocotools at run time; ``tests/test_coco_eval.py``
compares them.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "rle_encode",
    "rle_decode",
    "rle_counts",
    "rle_area",
    "counts_to_string",
    "string_to_counts",
    "polygons_to_mask",
]


# --------------------------------------------------------------------------- string form


def counts_to_string(counts) -> str:
    """Compress run lengths into pycocotools' string form (``rleToString``)."""
    if isinstance(counts, (str, bytes, dict)) or not isinstance(counts, (list, tuple, np.ndarray)):
        raise TypeError(f"counts must be a list of non-negative ints (run lengths), got {type(counts).__name__}")
    values = np.asarray(counts)
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise TypeError(f"counts must be a 1-D list of non-negative ints (run lengths), got {counts!r}"[:200])
    if (values < 0).any() or (values > 0xFFFFFFFF).any():
        raise ValueError("counts must be run lengths in 0 .. 2**32 - 1 (pycocotools stores uint32)")
    counts = [int(c) for c in counts]
    characters = []
    for i, value in enumerate(counts):
        x = value - counts[i - 2] if i > 2 else value  # delta against the run two back
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift: negative deltas stay negative
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            characters.append(chr(c + 48))
    return "".join(characters)


def string_to_counts(text) -> np.ndarray:
    """Decompress pycocotools' string form into run lengths (``rleFrString``).

    Returns:
        np.ndarray[m]: int64 run lengths.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("text must be ASCII (pycocotools' compressed RLE counts)") from None
    if not isinstance(text, str):
        raise TypeError(f"text must be a str or bytes of compressed RLE counts, got {type(text).__name__}")
    counts: list[int] = []
    p = 0
    while p < len(text):
        x, k, more = 0, 0, True
        while more:
            if p >= len(text):
                raise ValueError("text (compressed RLE counts) ends in the middle of a number")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"text (compressed RLE counts) holds an invalid character {text[p]!r}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)  # sign-extend
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x & 0xFFFFFFFF)  # stored as uint32 by the C code
    return np.asarray(counts, dtype=np.int64)


# --------------------------------------------------------------------------- encode / decode


def rle_encode(mask, compressed: bool = False) -> dict:
    """Encode a binary mask ``[h, w]`` as a COCO RLE dict.

    Args:
        mask (array[h, w]): bool or 0/1 values (numpy array or torch tensor).
        compressed (bool): string counts (as ``pycocotools.mask.encode``) instead of a list.

    Returns:
        dict: ``{"size": [h, w], "counts": list of int or str}``.
    """
    if not isinstance(compressed, bool):
        raise TypeError(f"compressed must be True or False, got {compressed!r}")
    if hasattr(mask, "detach"):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"mask must hold bool or 0/1 numbers, got dtype {mask.dtype}")
    if mask.ndim != 2:
        raise ValueError(f"mask must be a 2-D array [h, w], got shape {list(mask.shape)}")
    if mask.dtype != bool and not np.isin(mask, (0, 1)).all():
        raise ValueError("mask must hold only 0 and 1 (or bool)")
    h, w = mask.shape
    flat = mask.astype(bool).flatten(order="F")  # column-major, as COCO reads pixels
    # Run boundaries: where the value changes; the first run is always of 0s (maybe empty).
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    boundaries = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(boundaries).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts
    if flat.size == 0:
        counts = [0]
    return {"size": [int(h), int(w)], "counts": counts_to_string(counts) if compressed else counts}


def rle_counts(rle, name: str = "rle") -> tuple[np.ndarray, int, int]:
    """The run lengths and size of an RLE dict (either form), checked.

    Returns:
        tuple: ``(counts int64 array, h, w)``.
    """
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise ValueError(f"{name} must be an RLE dict with keys 'size' and 'counts'")
    size = rle["size"]
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0 for s in size)
    ):
        raise ValueError(f"{name}['size'] must be [height, width] (non-negative ints), got {size!r}")
    h, w = int(size[0]), int(size[1])
    counts = rle["counts"]
    if isinstance(counts, (str, bytes)):
        values = string_to_counts(counts)
    elif isinstance(counts, (list, tuple, np.ndarray)):
        values = np.asarray(counts)
        if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
            raise ValueError(f"{name}['counts'] must be a list of ints or a compressed string")
        values = values.astype(np.int64)
        if (values < 0).any():
            raise ValueError(f"{name}['counts'] must not be negative")
    else:
        raise ValueError(f"{name}['counts'] must be a list of ints or a compressed string, got {type(counts).__name__}")
    if int(values.sum()) != h * w:
        raise ValueError(f"{name}['counts'] must add up to height * width = {h * w}, got {int(values.sum())}")
    return values, h, w


def rle_decode(rle, name: str = "rle") -> np.ndarray:
    """Decode a COCO RLE dict (either form) into a ``uint8`` mask ``[h, w]``."""
    counts, h, w = rle_counts(rle, name)
    values = np.arange(len(counts)) % 2  # 0, 1, 0, 1, ...: the runs alternate, starting with 0s
    flat = np.repeat(values.astype(np.uint8), counts)
    return flat.reshape(w, h).T.copy()  # column-major -> [h, w]


def rle_area(rle, name: str = "rle") -> int:
    """Number of pixels in the mask: the sum of the odd (1s) runs."""
    counts, _, _ = rle_counts(rle, name)
    return int(counts[1::2].sum())


# --------------------------------------------------------------------------- polygons


def polygons_to_mask(polygons, height: int, width: int, name: str = "polygons") -> np.ndarray:
    """Rasterise COCO polygons ``[[x1, y1, x2, y2, ...], ...]`` exactly as pycocotools does.

    pycocotools' ``rleFrPoly`` walks each edge on a 5x finer grid and keeps a
    pixel (column ``x``, row ``y``) when the boundary crosses column ``x`` above
    its centre; the parts of a multi-polygon object are merged (union). This is
    a port of that C code, so the masks and areas equal pycocotools' bit for bit.

    Args:
        polygons (list of lists): each ``[x1, y1, x2, y2, ...]``, an even count of finite numbers, >= 3 points.
        height (int), width (int): the mask's size.
        name (str): how messages call ``polygons``.

    Returns:
        np.ndarray[h, w]: uint8 mask.
    """
    height = _check_size("height", height)
    width = _check_size("width", width)
    if not isinstance(polygons, (list, tuple)) or not polygons:
        raise TypeError(
            f"{name} must be a non-empty list of polygons [[x1, y1, x2, y2, ...], ...], got {polygons!r}"[:200]
        )
    checked = []
    for j, polygon in enumerate(polygons):
        where = f"{name}[{j}]"
        if isinstance(polygon, (str, bytes, dict)) or not isinstance(polygon, (list, tuple, np.ndarray)):
            raise TypeError(f"{where} must be a list of numbers [x1, y1, x2, y2, ...], got {polygon!r}"[:200])
        if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.number)) for v in polygon):
            raise TypeError(f"{where} must hold only numbers, got {list(polygon)!r}"[:200])
        xy = np.asarray(polygon, dtype=np.float64).reshape(-1)
        if len(xy) % 2:
            raise ValueError(f"{where} must hold x, y pairs (an even count), got {len(xy)} numbers")
        if len(xy) < 6:
            raise ValueError(f"{where} must have at least 3 points (6 numbers), got {len(xy)} numbers")
        if not np.isfinite(xy).all():
            raise ValueError(f"{where} must be finite, got {xy.tolist()}"[:200])
        checked.append(xy)
    mask = np.zeros(height * width, dtype=bool)
    for xy in checked:
        mask |= _polygon_flat_mask(xy, height, width)
    return mask.reshape(width, height).T.astype(np.uint8)


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def _c_int(values: np.ndarray) -> np.ndarray:
    """C's ``(int)`` cast of doubles: truncation toward zero; NaN becomes INT_MIN (as on x86)."""
    out = np.full(values.shape, np.iinfo(np.int32).min, dtype=np.int64)
    finite = np.isfinite(values)
    out[finite] = np.trunc(values[finite]).astype(np.int64)
    return out


def _polygon_flat_mask(xy: np.ndarray, h: int, w: int) -> np.ndarray:
    scale = 5.0
    k = len(xy) // 2
    x = _c_int(scale * xy[0::2][:k] + 0.5)
    y = _c_int(scale * xy[1::2][:k] + 0.5)
    x = np.append(x, x[0])
    y = np.append(y, y[0])
    # 1. Points densely along every edge, on the upsampled grid.
    us, vs = [], []
    for j in range(k):
        xs, xe, ys, ye = int(x[j]), int(x[j + 1]), int(y[j]), int(y[j + 1])
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe, ys, ye = xe, xs, ye, ys
        d = np.arange((dx if dx >= dy else dy) + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if dx >= dy:
                s = (ye - ys) / dx if dx else np.nan
                t = dx - d if flip else d
                us.append(t + xs)
                vs.append(_c_int(ys + s * t + 0.5))
            else:
                s = (xe - xs) / dy
                t = dy - d if flip else d
                vs.append(t + ys)
                us.append(_c_int(xs + s * t + 0.5))
    u = np.concatenate(us).astype(np.int64)
    v = np.concatenate(vs).astype(np.int64)
    # 2. Where the boundary crosses a pixel column: keep the row just below it, downsampled.
    step = u[1:] != u[:-1]
    uj, uprev, vj, vprev = u[1:][step], u[:-1][step], v[1:][step], v[:-1][step]
    xd = np.where(uj < uprev, uj, uj - 1).astype(np.float64)
    xd = (xd + 0.5) / scale - 0.5
    ok = (np.floor(xd) == xd) & (xd >= 0) & (xd <= w - 1)
    yd = np.minimum(vj, vprev).astype(np.float64)  # v[j] < v[j-1] ? v[j] : v[j-1]
    yd = (yd + 0.5) / scale - 0.5
    yd = np.ceil(np.clip(yd, 0, h))
    xs_, ys_ = xd[ok].astype(np.int64), yd[ok].astype(np.int64)
    # 3. The crossings, as positions in column-major order, toggle the mask on and off.
    a = np.sort(np.append((xs_ * h + ys_) & 0xFFFFFFFF, h * w))
    a = np.diff(np.concatenate(([0], a)))  # a[j] -= previous position
    counts = [int(a[0])]
    j = 1
    while j < len(a):
        if a[j] > 0:
            counts.append(int(a[j]))
            j += 1
        else:  # two crossings at one position cancel: merge the runs around them
            j += 1
            if j < len(a):
                counts[-1] += int(a[j])
                j += 1
    values = np.arange(len(counts)) % 2
    flat = np.repeat(values.astype(bool), counts)
    if flat.size != h * w:  # cannot happen for a proper polygon; keep the mask the right size regardless
        flat = (
            np.resize(flat, h * w) if flat.size > h * w else np.concatenate([flat, np.zeros(h * w - flat.size, bool)])
        )
    return flat
