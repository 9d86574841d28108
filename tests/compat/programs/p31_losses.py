# ruff: noqa - written as PyTorch user code is written
# Every common loss with its options (reduction 'none'/'sum'/'mean', class weights,
# ignore_index, label_smoothing, probability targets, pos_weight, log_target, margins),
# as modules and as functions, with the gradients they send back.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(31)


def t(a, grad=False):
    x = torch.from_numpy(np.asarray(a, dtype=np.float32))
    return x.requires_grad_() if grad else x


logits = t(rng.standard_normal((6, 4)), grad=True)
labels = torch.tensor([0, 3, 1, 1, 2, 3])
labels_ignored = torch.tensor([0, -100, 1, 1, 2, -100])
class_w = t([1.0, 2.0, 0.5, 1.5])
probs = torch.softmax(t(rng.standard_normal((6, 4))), dim=1)
seg_logits = t(rng.standard_normal((2, 3, 4, 5)), grad=True)
seg_labels = torch.from_numpy(rng.integers(0, 3, (2, 4, 5)))
seg_labels[0, 0, :2] = 7  # ignored pixels
pred = t(rng.standard_normal((5, 3)), grad=True)
target = t(rng.standard_normal((5, 3)))
prob_pred = torch.sigmoid(t(rng.standard_normal((5, 3)))).requires_grad_()
bin_target = t(rng.integers(0, 2, (5, 3)))
soft_target = t(rng.random((5, 3)))

results, grads = {}, {}


def record(name, value):
    results[name] = value.detach().clone()
    (value.sum() if value.dim() else value).backward(retain_graph=True)
    for src_name, src in (("logits", logits), ("seg", seg_logits), ("pred", pred),
                          ("prob", prob_pred)):
        if src.grad is not None:
            grads[f"{name}/{src_name}"] = src.grad.clone()
            src.grad = None


for reduction in ("none", "sum", "mean"):
    r = reduction
    record(f"ce_{r}", nn.CrossEntropyLoss(reduction=r)(logits, labels))
    record(f"ce_w_{r}", nn.CrossEntropyLoss(weight=class_w, reduction=r)(logits, labels))
    record(f"ce_ign_{r}", F.cross_entropy(logits, labels_ignored, reduction=r))
    record(f"ce_ls_{r}", nn.CrossEntropyLoss(label_smoothing=0.2, reduction=r,
                                             weight=class_w)(logits, labels_ignored))
    record(f"ce_prob_{r}", F.cross_entropy(logits, probs, reduction=r, label_smoothing=0.1))
    record(f"ce_seg_{r}", F.cross_entropy(seg_logits, seg_labels, ignore_index=7,
                                          reduction=r))
    record(f"nll_{r}", nn.NLLLoss(weight=class_w, ignore_index=3, reduction=r)(
        F.log_softmax(logits, dim=1), labels))
    record(f"bce_{r}", nn.BCELoss(reduction=r)(prob_pred, bin_target))
    record(f"bce_w_{r}", F.binary_cross_entropy(prob_pred, soft_target, weight=t([1, 2, 3]),
                                                reduction=r))
    record(f"bcel_{r}", nn.BCEWithLogitsLoss(pos_weight=t([0.5, 2.0, 4.0]), reduction=r)(
        pred, bin_target))
    record(f"bcel_w_{r}", F.binary_cross_entropy_with_logits(pred, soft_target,
                                                             weight=t([[2.0], [1], [1], [0.5], [1]]),
                                                             reduction=r))
    record(f"mse_{r}", nn.MSELoss(reduction=r)(pred, target))
    record(f"l1_{r}", nn.L1Loss(reduction=r)(pred, target))
    record(f"smoothl1_{r}", nn.SmoothL1Loss(reduction=r, beta=0.5)(pred, target))
    record(f"huber_{r}", nn.HuberLoss(reduction=r, delta=0.7)(pred, target))
    record(f"kl_{r}", nn.KLDivLoss(reduction=r if r != "mean" else "batchmean")(
        F.log_softmax(pred, dim=1), F.softmax(target, dim=1)))
    record(f"kl_log_{r}", F.kl_div(F.log_softmax(pred, dim=1), F.log_softmax(target, dim=1),
                                   reduction=r if r != "mean" else "batchmean", log_target=True))
    record(f"cos_{r}", nn.CosineEmbeddingLoss(margin=0.2, reduction=r)(
        pred, target, torch.tensor([1, -1, 1, -1, -1])))
    record(f"rank_{r}", nn.MarginRankingLoss(margin=0.3, reduction=r)(
        pred[:, 0], target[:, 0], torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0])))
    record(f"triplet_{r}", nn.TripletMarginLoss(margin=1.0, p=2, reduction=r)(
        pred, target, target.flip(0)))
    record(f"triplet_swap_{r}", F.triplet_margin_loss(pred, target, target * 0.5, swap=True,
                                                      p=1, reduction=r))
    record(f"soft_margin_{r}", nn.SoftMarginLoss(reduction=r)(pred, bin_target * 2 - 1))
    record(f"multi_margin_{r}", nn.MultiMarginLoss(margin=0.5, reduction=r)(logits, labels))
    record(f"multilabel_{r}", nn.MultiLabelSoftMarginLoss(reduction=r)(pred, bin_target))
    record(f"poisson_{r}", nn.PoissonNLLLoss(reduction=r)(pred, target.abs()))
    record(f"gauss_{r}", nn.GaussianNLLLoss(reduction=r)(pred, target, prob_pred))
    record(f"hinge_emb_{r}", nn.HingeEmbeddingLoss(margin=0.5, reduction=r)(
        pred, bin_target * 2 - 1))

RESULT = {"values": results, "grads": grads}
