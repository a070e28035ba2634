"""``python -m vislib.tools.bench_coco``: time ``coco_evaluate`` against pycocotools' COCOeval.

Generates a random but COCO-like data set (640x480 images, 80 categories, a
handful of objects per image with COCO-like sizes and some crowds, and
``dets_per_image`` detections per image: jittered copies of the objects with
high scores plus background boxes with low scores), evaluates it with both,
checks that the twelve numbers and the precision/recall arrays agree, and
returns both timings.

pycocotools is a development dependency (``pip install -e .[dev]``); it is
imported inside :func:`compare_with_pycocotools` only, so nothing else in
vislib needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import time

import numpy as np

from vislib._validation import check_int

__all__ = ["compare_with_pycocotools", "main", "make_dataset", "run_pycocotools"]


def make_dataset(n_images: int = 1000, dets_per_image: int = 100, seed: int = 0, n_categories: int = 80):
    """A random COCO ground-truth dict and result list (``bbox``)."""
    n_images = check_int("n_images", n_images, min_value=1)
    dets_per_image = check_int("dets_per_image", dets_per_image, min_value=0)
    rng = np.random.default_rng(seed)
    width, height = 640, 480
    images = [{"id": i + 1, "width": width, "height": height, "file_name": f"{i + 1:06d}.jpg"} for i in range(n_images)]
    categories = [{"id": c + 1, "name": f"class{c + 1}"} for c in range(n_categories)]
    annotations, results = [], []
    for image in images:
        n_objects = 1 + rng.poisson(6)
        present = rng.choice(n_categories, size=min(n_categories, 1 + rng.poisson(2)), replace=False) + 1
        objects = []
        for _ in range(n_objects):
            side = float(np.exp(rng.uniform(np.log(6), np.log(400))))  # small, medium and large objects
            aspect = float(np.exp(rng.normal(0, 0.4)))
            w, h = min(side * aspect, width - 1), min(side / aspect, height - 1)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            box = [round(float(x), 2), round(float(y), 2), round(float(w), 2), round(float(h), 2)]
            category = int(rng.choice(present))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image["id"],
                    "category_id": category,
                    "bbox": box,
                    "area": round(box[2] * box[3] * float(rng.uniform(0.5, 0.9)), 2),  # a mask is smaller than its box
                    "iscrowd": int(rng.random() < 0.01),
                }
            )
            objects.append((box, category))
        detections = []
        for box, category in objects:  # true detections: jittered, mostly high scores
            for _ in range(int(rng.integers(1, 4))):
                jitter = rng.normal(0, 0.1, 4) * np.array([box[2], box[3], box[2], box[3]])
                x, y, w, h = np.array(box) + jitter
                detections.append(([float(x), float(y), float(abs(w)), float(abs(h))], category, float(rng.beta(5, 2))))
        while len(detections) < dets_per_image:  # background: random boxes, low scores
            w, h = np.exp(rng.uniform(np.log(4), np.log(300), 2))
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            category = int(rng.choice(present)) if rng.random() < 0.7 else int(rng.integers(1, n_categories + 1))
            detections.append(([float(x), float(y), float(w), float(h)], category, float(rng.beta(1, 4))))
        for box, category, score in detections[:dets_per_image]:
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": category,
                    "bbox": [round(v, 2) for v in box],
                    "score": round(score, 3),
                }
            )
    gt = {"info": {}, "images": images, "annotations": annotations, "categories": categories}
    return gt, results


def run_pycocotools(gt: dict, results: list, iou_type: str = "bbox"):
    """COCO(), loadRes, evaluate, accumulate, summarize, silenced. Returns the COCOeval object."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        detections = coco.loadRes(copy.deepcopy(results))
        evaluator = COCOeval(coco, detections, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def compare_with_pycocotools(n_images: int = 1000, dets_per_image: int = 100, seed: int = 0) -> dict:
    """Time ``coco_evaluate`` and pycocotools on the same random data set and compare the results.

    The pycocotools time covers what a user runs: building the COCO index,
    ``loadRes``, ``evaluate``, ``accumulate``, ``summarize`` (the deep copies of
    the inputs, which pycocotools modifies in place, are not timed).

    Returns:
        dict: ``vislib_s``, ``pycocotools_s``, ``speedup``, ``max_abs_difference`` (over the
        summary, precision and recall arrays), ``equal`` (difference <= 1e-9), and the sizes.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from vislib.metrics.coco import coco_evaluate

    gt, results = make_dataset(n_images, dets_per_image, seed)
    gt_copy, results_copy = copy.deepcopy(gt), copy.deepcopy(results)

    start = time.perf_counter()
    ours = coco_evaluate(gt, results, "bbox")
    vislib_s = time.perf_counter() - start

    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        coco = COCO()
        coco.dataset = gt_copy
        coco.createIndex()
        detections = coco.loadRes(results_copy)
        evaluator = COCOeval(coco, detections, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        pycocotools_s = time.perf_counter() - start

    difference = max(
        float(np.max(np.abs(np.array(list(ours.summary.values())) - evaluator.stats))),
        float(np.max(np.abs(ours.precision - evaluator.eval["precision"]))),
        float(np.max(np.abs(ours.recall - evaluator.eval["recall"]))),
    )
    return {
        "n_images": n_images,
        "dets_per_image": dets_per_image,
        "n_annotations": len(gt["annotations"]),
        "n_results": len(results),
        "vislib_s": vislib_s,
        "pycocotools_s": pycocotools_s,
        "speedup": pycocotools_s / vislib_s,
        "max_abs_difference": difference,
        "equal": difference <= 1e-9,
        "summary": ours.summary,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--dets", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = compare_with_pycocotools(args.images, args.dets, args.seed)
    print(
        f"{report['n_images']} images, {report['n_results']} detections, {report['n_annotations']} annotations: "
        f"vislib {report['vislib_s']:.2f} s, pycocotools {report['pycocotools_s']:.2f} s, "
        f"speed-up {report['speedup']:.1f}x, max |difference| {report['max_abs_difference']:.1e} "
        f"({'equal' if report['equal'] else 'NOT EQUAL'})"
    )


if __name__ == "__main__":
    main()
