"""vislib.models.deeplab and vislib.training.segmentation: shapes, ASPP, the decoder, pre-training, training."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vislib.data.shapes import ShapesDataset
from vislib.metrics.boundary import boundary_f_score
from vislib.metrics.segmentation import confusion_matrix, object_ious, segmentation_scores
from vislib.models.deeplab import ASPP, ConvBNReLU, Decoder, DeepLabV3Plus, Encoder, EncoderClassifier
from vislib.training.deeplab import (
    compare_segmenters,
    fine_tuning_curve,
    object_targets,
    presence_data,
    segmentation_quality,
    train_presence_classifier,
)
from vislib.training.segmentation import (
    evaluate_segmenter,
    predict_masks,
    presence_labels,
    segmentation_tensors,
    train_segmenter,
)

SMALL = dict(widths=(4, 8, 8), aspp_channels=8, low_channels=4, decoder_channels=8)


def test_shapes_through_the_network():
    torch.manual_seed(0)
    model = DeepLabV3Plus(5, **SMALL)
    shapes = model.shapes(64)
    assert shapes["low-level features (block1)"] == (1, 8, 16, 16)
    assert shapes["high-level features (block3, atrous)"] == (1, 8, 8, 8)
    assert shapes["ASPP output"] == (1, 8, 8, 8)
    assert shapes["decoder scores"] == (1, 5, 16, 16)
    assert shapes["output (upsampled)"] == (1, 5, 64, 64)
    assert model(torch.randn(2, 3, 96, 80)).shape == (2, 5, 96, 80)
    plain = DeepLabV3Plus(3, decoder=False, **SMALL)
    assert plain.decoder is None and plain(torch.randn(2, 3, 32, 32)).shape == (2, 3, 32, 32)


def test_conv_bn_relu_keeps_size_at_any_dilation():
    for dilation in (1, 2, 5):
        block = ConvBNReLU(3, 4, 3, dilation=dilation)
        assert block[0].padding == (dilation, dilation) and block[0].dilation == (dilation, dilation)
        assert block(torch.randn(2, 3, 12, 12)).shape == (2, 4, 12, 12)


def test_aspp_branches_and_image_pooling():
    torch.manual_seed(0)
    aspp = ASPP(6, 5, rates=(2, 4, 6)).eval()
    assert [b[0].dilation[0] for b in aspp.branches] == [1, 2, 4, 6]
    assert aspp.branches[0][0].kernel_size == (1, 1)
    assert aspp.project[0].in_channels == 5 * 5
    x = torch.randn(3, 6, 8, 8)
    assert aspp(x).shape == (3, 5, 8, 8)
    # The image-pooling branch is one vector per image, the same at every position.
    pooled = aspp.image_pooling(x)
    assert pooled.shape == (3, 5, 1, 1)
    torch.testing.assert_close(pooled[..., 0, 0], aspp.image_pooling[1](x.mean(dim=(2, 3), keepdim=True))[..., 0, 0])
    # Each atrous branch is the library's dilated convolution.
    conv = aspp.branches[2][0]
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, padding=4, dilation=4))


def test_decoder_uses_low_level_features():
    torch.manual_seed(0)
    decoder = Decoder(low_in=8, context_channels=6, num_classes=3, low_channels=2, channels=4).eval()
    low, context = torch.randn(1, 8, 16, 16), torch.randn(1, 6, 8, 8)
    out = decoder(low, context)
    assert out.shape == (1, 3, 16, 16)
    assert decoder.project_low[0].out_channels == 2
    assert not torch.allclose(out, decoder(low * 0, context))  # the skip connection matters


def test_encoder_weights_transfer_from_the_classifier():
    torch.manual_seed(0)
    classifier = EncoderClassifier(10, widths=(4, 8, 8))
    assert classifier(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    model = DeepLabV3Plus(5, **SMALL)
    model.encoder.load_state_dict(classifier.encoder.state_dict())
    for (name, a), (_, b) in zip(model.encoder.state_dict().items(), classifier.encoder.state_dict().items()):
        assert torch.equal(a, b), name
    low, high = Encoder((4, 8, 8))(torch.randn(1, 3, 32, 32))
    assert low.shape == (1, 8, 8, 8) and high.shape == (1, 8, 4, 4)


def test_bad_input():
    with pytest.raises(ValueError, match="multiples of 8"):
        DeepLabV3Plus(5, **SMALL)(torch.randn(1, 3, 30, 32))
    with pytest.raises(TypeError, match="x"):
        DeepLabV3Plus(5, **SMALL)(torch.zeros(1, 3, 32, 32, dtype=torch.long))
    with pytest.raises(ValueError, match="widths"):
        Encoder((4, 8))
    with pytest.raises(ValueError, match="rates"):
        ASPP(4, 4, rates=(0,))
    with pytest.raises(ValueError, match="num_classes"):
        DeepLabV3Plus(1)


@pytest.fixture(scope="module")
def shapes_data():
    return segmentation_tensors(ShapesDataset(12, 32, seed=3))


def test_segmentation_tensors_and_presence(shapes_data):
    images, masks = shapes_data
    assert images.shape == (12, 3, 32, 32) and masks.shape == (12, 32, 32) and masks.dtype == torch.int64
    dataset = ShapesDataset(12, 32, seed=3)
    assert torch.equal(masks[5], dataset[5][1]["semantic_mask"])
    assert segmentation_tensors(shapes_data) == shapes_data
    presence = presence_labels(masks, 5)
    for i in range(12):
        present = set(dataset[i][1]["labels"].tolist())
        assert {c + 1 for c in range(4) if presence[i, c]} == present
    with pytest.raises(ValueError, match="same number"):
        segmentation_tensors((images, masks[:3]))
    with pytest.raises(TypeError, match="integer"):
        segmentation_tensors((images, masks.float()))


def test_train_segmenter_records_history_and_learns(shapes_data):
    torch.manual_seed(0)
    model = DeepLabV3Plus(5, **SMALL)
    run = train_segmenter(model, shapes_data, steps=20, lr=1e-2, val=shapes_data, eval_every=10, batch_size=4)
    assert run.steps == 20 and run.eval_steps == [0, 10, 20]
    assert len(run.val_miou) == 3 and all(0 <= v <= 1 for v in run.val_miou)
    assert sum(run.losses[-5:]) < sum(run.losses[:5])  # it learns something
    assert run.final_miou == run.val_miou[-1] and not model.training
    scores = evaluate_segmenter(model, shapes_data, 5)
    predicted = predict_masks(model, shapes_data[0])
    assert torch.equal(scores.confusion, confusion_matrix(predicted, shapes_data[1], 5))
    assert scores.mean_iou == pytest.approx(run.final_miou)
    # Reproducible: the same seed gives the same losses.
    torch.manual_seed(0)
    again = train_segmenter(DeepLabV3Plus(5, **SMALL), shapes_data, steps=20, lr=1e-2, batch_size=4)
    assert again.losses == pytest.approx(run.losses) and again.final is None and math.isnan(again.final_miou)


def test_train_segmenter_ignore_index_dict_outputs_and_bad_input(shapes_data):
    images, masks = shapes_data

    class DictModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 5, 1)

        def forward(self, x):
            return {"out": self.conv(x)}

    ignored = masks.clone()
    ignored[:, :4] = 255
    run = train_segmenter(
        DictModel(),
        (images, ignored),
        steps=3,
        num_classes=5,
        ignore_index=255,
        val=(images, ignored),
        eval_every=3,
        batch_size=4,
    )
    assert run.final.confusion.sum() == (ignored != 255).sum()
    with pytest.raises(ValueError, match="num_classes"):
        train_segmenter(DictModel(), shapes_data, steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        train_segmenter(DeepLabV3Plus(5, **SMALL), shapes_data, steps=1, batch_size=100)
    with pytest.raises(ValueError, match="optimizer"):
        train_segmenter(DeepLabV3Plus(5, **SMALL), shapes_data, steps=1, optimizer="lbfgs")


def test_strided_twin_has_the_same_parameters_and_a_coarser_map():
    torch.manual_seed(0)
    atrous, strided = DeepLabV3Plus(5, **SMALL), DeepLabV3Plus(5, output_stride=32, **SMALL)
    assert [p.shape for p in atrous.parameters()] == [p.shape for p in strided.parameters()]
    assert atrous.shapes(64)["high-level features (block3, atrous)"] == (1, 8, 8, 8)
    shapes = strided.shapes(64)
    assert shapes["high-level features (block3, strided)"] == (1, 8, 2, 2)
    assert shapes["output (upsampled)"] == (1, 5, 64, 64)
    assert Encoder((4, 8, 8), output_stride=16)(torch.randn(1, 3, 64, 64))[1].shape == (1, 8, 4, 4)
    conv = strided.encoder.block3[0][0]
    assert conv.stride == (2, 2) and conv.dilation == (1, 1)
    # Loading the atrous weights into the strided twin works: only strides and dilations differ.
    strided.load_state_dict(atrous.state_dict())
    with pytest.raises(ValueError, match="multiples of 32"):
        strided(torch.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match="output_stride"):
        Encoder((4, 8, 8), output_stride=4)


def test_encoder_lr_trains_the_encoder_at_its_own_rate(shapes_data):
    torch.manual_seed(0)
    model = DeepLabV3Plus(5, **SMALL)
    encoder_before = [p.detach().clone() for p in model.encoder.parameters()]
    aspp_before = [p.detach().clone() for p in model.aspp.parameters()]
    train_segmenter(model, shapes_data, steps=3, lr=1e-2, encoder_lr=0.0, batch_size=4)
    assert all(torch.equal(a, p) for a, p in zip(encoder_before, model.encoder.parameters()))
    assert not all(torch.equal(a, p) for a, p in zip(aspp_before, model.aspp.parameters()))
    # encoder_lr equal to lr is the default behaviour, step for step.
    runs = []
    for encoder_lr in (None, 1e-2):
        torch.manual_seed(0)
        runs.append(
            train_segmenter(
                DeepLabV3Plus(5, **SMALL), shapes_data, steps=5, lr=1e-2, encoder_lr=encoder_lr, batch_size=4
            )
        )
    assert runs[0].losses == pytest.approx(runs[1].losses)
    with pytest.raises(ValueError, match="encoder"):
        train_segmenter(nn.Conv2d(3, 5, 1), shapes_data, steps=1, num_classes=5, encoder_lr=1e-3)


def test_presence_pretraining_learns_image_level_labels():
    images, presence = presence_data(96, 32, seed=1)
    assert images.shape == (96, 3, 32, 32) and presence.shape == (96, 4)
    masks = segmentation_tensors(ShapesDataset(96, 32, seed=1))[1]
    assert torch.equal(presence, presence_labels(masks, 5))
    torch.manual_seed(0)
    model = EncoderClassifier(4, widths=(4, 8, 8))
    run = train_presence_classifier(model, images, presence, steps=30, batch_size=16, val=(images, presence))
    assert run.steps == 30 and sum(run.losses[-5:]) < sum(run.losses[:5])
    assert 0.5 < run.val_accuracy <= 1
    with pytest.raises(ValueError, match="presence"):
        train_presence_classifier(model, images, presence[:3], steps=1)


def test_fine_tuning_curve_pairs_runs_that_differ_only_in_the_encoder(shapes_data):
    torch.manual_seed(5)
    encoder = EncoderClassifier(4, widths=(4, 8, 8)).encoder.state_dict()
    options = dict(num_classes=5, **SMALL)
    curve = fine_tuning_curve(
        {0: encoder, 3: encoder}, shapes_data, shapes_data, label_counts=(4, 8), steps=2, model_options=options
    )
    assert curve.seeds == (0, 3) and curve.label_counts == (4, 8)
    for variant in ("pre-trained encoder", "from scratch"):
        assert all(len(curve.miou[variant][n]) == 2 for n in (4, 8))
        assert all(0 <= v <= 1 for n in (4, 8) for v in curve.miou[variant][n])
        assert len(curve.mean(variant)) == 2 and len(curve.sd(variant)) == 2
    # With encoder_lr = lr = 0 nothing trains: pre-trained and scratch models differ by the encoder only, so an
    # encoder equal to seed 0's fresh one gives the same scores as from scratch.
    torch.manual_seed(0)
    fresh = DeepLabV3Plus(**options).encoder.state_dict()
    same = fine_tuning_curve(
        {0: fresh}, shapes_data, shapes_data, label_counts=(4,), steps=1, lr=0.0, encoder_lr=0.0, model_options=options
    )
    assert same.miou["pre-trained encoder"][4] == pytest.approx(same.miou["from scratch"][4])
    with pytest.raises(ValueError, match="label_counts"):
        fine_tuning_curve({0: encoder}, shapes_data, shapes_data, label_counts=(100,), model_options=options)


def test_segmentation_quality_and_compare_segmenters():
    dataset = ShapesDataset(8, 32, seed=2)
    data, objects = segmentation_tensors(dataset), object_targets(dataset)
    assert len(objects) == 8 and objects[0][0].dtype == torch.bool
    torch.manual_seed(0)
    model = DeepLabV3Plus(5, **SMALL)
    quality = segmentation_quality(model, *data, objects, small_area=10_000)
    predicted = predict_masks(model, data[0])
    assert quality["mIoU"] == pytest.approx(segmentation_scores(predicted, data[1], 5).mean_iou)
    assert quality["boundary F"] == pytest.approx(boundary_f_score(predicted, data[1], 2).f_score)
    every = torch.cat([object_ious(p, m, lab, 4) for p, (m, lab) in zip(predicted, objects)])
    assert quality["small objects"] == len(every) and quality["small-object IoU"] == pytest.approx(every.mean().item())
    variants = {"v3": dict(decoder=False, **SMALL), "strided": dict(decoder=False, output_stride=32, **SMALL)}
    comparison = compare_segmenters(variants, data, data, objects, seeds=(0, 1), steps=2, batch_size=4)
    assert comparison.parameters["v3"] == comparison.parameters["strided"]
    assert len(comparison.values("v3", "boundary F")) == 2 and 0 <= comparison.mean("strided", "mIoU") <= 1
    with pytest.raises(ValueError, match="objects"):
        segmentation_quality(model, *data, objects[:2])
