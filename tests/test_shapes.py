"""vislib.data.shapes: deterministic synthetic shapes, consistent annotations, COCO and VOC export."""

import contextlib
import io
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vislib.data import ShapesDataset, class_names, detection_collate, from_coco, masks_to_boxes, to_coco, to_voc_xml
from vislib.data.shapes import MAX_OCCLUSION

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools.mask and numpy 2


@pytest.fixture(scope="module")
def dataset():
    return ShapesDataset(24, image_size=96, seed=3)


def test_sample_format(dataset):
    image, target = dataset[5]
    assert image.shape == (3, 96, 96) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    n = len(target["labels"])
    assert n >= 1
    assert target["boxes"].shape == (n, 4) and target["boxes"].dtype == torch.float32
    assert target["labels"].dtype == torch.int64 and bool(((target["labels"] >= 1) & (target["labels"] <= 4)).all())
    assert target["masks"].shape == (n, 96, 96) and target["masks"].dtype == torch.uint8
    assert target["semantic_mask"].shape == (96, 96) and target["semantic_mask"].dtype == torch.int64
    assert target["image_id"] == 5 and isinstance(target["image_id"], int)
    assert len(dataset) == 24 and class_names == ("circle", "square", "triangle", "star")


def test_deterministic_per_seed_and_index(dataset):
    again = ShapesDataset(24, image_size=96, seed=3)
    for i in (0, 7, 23):
        image_a, target_a = dataset[i]
        image_b, target_b = again[i]  # another instance, another order
        assert torch.equal(image_a, image_b)
        for key in ("boxes", "labels", "masks", "semantic_mask"):
            assert torch.equal(target_a[key], target_b[key])
    assert torch.equal(dataset[-1][0], dataset[23][0])
    # The same index in a bigger data set is the same image; another seed is another image.
    assert torch.equal(ShapesDataset(100, image_size=96, seed=3)[7][0], dataset[7][0])
    assert not torch.equal(ShapesDataset(24, image_size=96, seed=4)[7][0], dataset[7][0])


def test_boxes_are_the_bounding_boxes_of_the_masks(dataset):
    for i in range(len(dataset)):
        _, target = dataset[i]
        for box, mask in zip(target["boxes"], target["masks"]):
            rows = torch.nonzero(mask.any(dim=1)).flatten()
            columns = torch.nonzero(mask.any(dim=0)).flatten()
            # Pixel-edge convention: columns c0..c1 -> x1 = c0, x2 = c1 + 1.
            expected = [columns[0], rows[0], columns[-1] + 1, rows[-1] + 1]
            assert box.tolist() == [float(v) for v in expected]
    assert masks_to_boxes(np.array([[[0, 0, 0], [0, 1, 0]]], dtype=bool)).tolist() == [[1, 1, 2, 2]]


def test_semantic_mask_matches_the_instance_masks(dataset):
    for i in range(len(dataset)):
        _, target = dataset[i]
        masks = target["masks"].bool()
        assert int(masks.sum(dim=0).max()) <= 1  # visible masks never overlap
        expected = (masks.long() * target["labels"][:, None, None]).sum(dim=0)
        assert torch.equal(target["semantic_mask"], expected)


def test_occluded_objects_are_annotated_by_their_visible_part():
    crowded = ShapesDataset(30, image_size=64, seed=1, min_objects=6, max_objects=8)
    dropped = 0
    for i in range(len(crowded)):
        sample = crowded.render(i)
        full, visible, kept = sample["full_masks"], sample["visible_masks"], sample["kept"]
        for j in range(len(full)):
            later = full[j + 1 :].any(axis=0) if j + 1 < len(full) else np.zeros_like(full[j])
            assert np.array_equal(visible[j], full[j] & ~later)  # later shapes hide earlier ones
            share = visible[j].sum() / full[j].sum()
            assert kept[j] == (share >= 1 - MAX_OCCLUSION)  # annotated iff at most 70 % hidden
        assert kept[-1] and visible[-1].sum() == full[-1].sum()  # the last shape is whole
        dropped += int((~kept).sum())
        _, target = crowded[i]
        assert np.array_equal(target["masks"].numpy().astype(bool), visible[kept])
        assert target["labels"].tolist() == sample["all_labels"][kept].tolist()
    assert dropped > 0


def test_collate_and_dataloader(dataset):
    loader = DataLoader(dataset, batch_size=4, collate_fn=detection_collate)
    images, targets = next(iter(loader))
    assert images.shape == (4, 3, 96, 96) and len(targets) == 4
    assert [t["image_id"] for t in targets] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="batch must not be empty"):
        detection_collate([])
    with pytest.raises(ValueError, match="all images must have the same shape"):
        detection_collate([dataset[0], ShapesDataset(1, image_size=64)[0]])


def test_coco_round_trip_and_pycocotools_loads_it(dataset):
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    coco_dict = to_coco(dataset)
    assert [c["name"] for c in coco_dict["categories"]] == list(class_names)
    assert len(coco_dict["images"]) == len(dataset)
    coco = COCO()
    coco.dataset = coco_dict
    with contextlib.redirect_stdout(io.StringIO()):  # COCO prints "creating index..."
        coco.createIndex()
    targets = from_coco(coco_dict)
    for i in range(len(dataset)):
        _, target = dataset[i]
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[i]))
        assert len(annotations) == len(target["labels"])
        for ann, mask, box, label in zip(annotations, target["masks"], target["boxes"], target["labels"]):
            mask = mask.numpy()
            assert ann["iscrowd"] == 0 and ann["category_id"] == int(label)
            assert ann["area"] == int(mask.sum())  # the visible pixels, not the box
            assert ann["bbox"] == [box[0].item(), box[1].item(), (box[2] - box[0]).item(), (box[3] - box[1]).item()]
            rle = mask_utils.frPyObjects(ann["segmentation"], 96, 96)  # uncompressed -> pycocotools' RLE
            assert np.array_equal(mask_utils.decode(rle), mask)
            assert mask_utils.area(rle) == ann["area"]
            assert np.array_equal(coco.annToMask(ann), mask)
        back = targets[i]
        assert back["image_id"] == i
        assert torch.equal(back["boxes"], target["boxes"])
        assert torch.equal(back["labels"], target["labels"])
        assert torch.equal(back["masks"], target["masks"])
        assert back["iscrowd"].sum() == 0


def test_coco_export_evaluates_perfectly():
    from vislib.metrics import coco_evaluate

    data = ShapesDataset(6, image_size=64, seed=2)
    gt = to_coco(data)
    results = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in gt["annotations"]
    ]
    assert coco_evaluate(gt, results).summary["AP"] == pytest.approx(1.0)
    segm = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "segmentation": a["segmentation"], "score": 1.0}
        for a in gt["annotations"]
    ]
    assert coco_evaluate(gt, segm, "segm").summary["AP"] == pytest.approx(1.0)


def test_voc_xml(dataset):
    _, target = dataset[2]
    text = to_voc_xml(target, "000002.png", (96, 96), class_names)
    root = ET.fromstring(text)
    assert root.tag == "annotation" and root.findtext("filename") == "000002.png"
    assert (root.findtext("size/width"), root.findtext("size/height"), root.findtext("size/depth")) == ("96", "96", "3")
    objects = root.findall("object")
    assert [o.findtext("name") for o in objects] == [class_names[int(k) - 1] for k in target["labels"]]
    for obj, box in zip(objects, target["boxes"].tolist()):
        coordinates = [int(obj.findtext(f"bndbox/{tag}")) for tag in ("xmin", "ymin", "xmax", "ymax")]
        # 1-based inclusive pixels: xmin = x1 + 1, xmax = x2, so xmax - xmin + 1 = x2 - x1.
        assert coordinates == [int(box[0]) + 1, int(box[1]) + 1, int(box[2]), int(box[3])]
        assert obj.findtext("difficult") == "0"
    one = {"boxes": torch.tensor([[0.0, 5, 10, 20]]), "labels": torch.tensor([2])}
    obj = ET.fromstring(to_voc_xml(one, "a.png", (30, 40), class_names)).find("object")
    assert obj.findtext("name") == "square" and obj.findtext("truncated") == "1"
    assert [obj.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == ["1", "6", "10", "20"]


def test_speed_at_128_pixels():
    data = ShapesDataset(200, image_size=128, seed=0)
    data[0]  # imports cv2
    start = time.perf_counter()
    for i in range(len(data)):
        data[i]
    rate = len(data) / (time.perf_counter() - start)
    print(f"ShapesDataset: {rate:.0f} images/s at 128 px")
    assert rate > 50


def test_bad_input(dataset):
    with pytest.raises(TypeError, match="num_images must be an integer"):
        ShapesDataset(2.5)
    with pytest.raises(ValueError, match="image_size must be >= 32, got 8"):
        ShapesDataset(3, image_size=8)
    with pytest.raises(ValueError, match=r"max_objects must be >= min_objects \(3\), got 2"):
        ShapesDataset(3, min_objects=3, max_objects=2)
    with pytest.raises(
        ValueError, match="classes must be taken from 'circle', 'square', 'triangle', 'star'; got 'hexagon'"
    ):
        ShapesDataset(3, classes=("circle", "hexagon"))
    with pytest.raises(IndexError, match="index 24 is out of range for a data set of 24 images"):
        dataset[24]
    with pytest.raises(TypeError, match="index must be an integer"):
        dataset["0"]
    with pytest.raises(ValueError, match=r"target\['labels'\]\[0\] is 5, outside 1..4"):
        to_voc_xml(
            {"boxes": torch.tensor([[0.0, 0, 5, 5]]), "labels": torch.tensor([5])}, "a.png", (10, 10), class_names
        )
    with pytest.raises(ValueError, match=r"target\['boxes'\]\[0\] must lie inside the 10x10 image"):
        to_voc_xml(
            {"boxes": torch.tensor([[0.0, 0, 50, 5]]), "labels": torch.tensor([1])}, "a.png", (10, 10), class_names
        )
    with pytest.raises(ValueError, match=r"size must be \(height, width\)"):
        to_voc_xml({"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}, "a.png", 10, class_names)
    with pytest.raises(ValueError, match=r"coco\['annotations'\]\[0\]\['image_id'\] refers to unknown image id 9"):
        from_coco({"images": [], "annotations": [{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}]})


def test_class_subset_numbers_labels_in_the_given_order():
    data = ShapesDataset(10, image_size=64, classes=("star", "circle"))
    labels = torch.cat([data[i][1]["labels"] for i in range(10)])
    assert set(labels.tolist()) <= {1, 2}
    assert [c["name"] for c in to_coco(data)["categories"]] == ["star", "circle"]
