"""Reports on a trained classifier: per-class precision/recall, confusion matrix, plots."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .history import History

__all__ = ["classification_report", "confusion_matrix", "format_report", "plot_history",
           "print_report", "test_report"]


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of class ``i`` predicted as ``j``.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    k = num_classes or int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def classification_report(y_true, y_pred, num_classes: int | None = None,
                          class_names: Sequence[str] | None = None) -> dict:
    """Accuracy and per-class precision, recall, F1 and support, as a dict.

    >>> r = classification_report([0, 0, 1, 1], [0, 1, 1, 1])
    >>> r["accuracy"], r["classes"][1]["precision"], r["classes"][1]["recall"]
    (0.75, 0.6666666666666666, 1.0)
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    classes = [{"class": i, "name": names[i] if i < len(names) else str(i),
                "precision": float(precision[i]), "recall": float(recall[i]),
                "f1": float(f1[i]), "support": int(actual[i])} for i in range(k)]
    total = int(cm.sum())
    return {"accuracy": float(tp.sum() / total) if total else 0.0, "samples": total,
            "classes": classes, "confusion_matrix": cm.tolist()}


def format_report(report: dict) -> str:
    """The per-class table as text (one row per class, then the macro average)."""
    name_width = max([len("macro avg")] + [len(c["name"]) for c in report["classes"]])
    lines = [f"{'class':<{name_width}}  precision  recall     f1  support"]
    for c in report["classes"]:
        lines.append(f"{c['name']:<{name_width}}  {c['precision']:9.4f}  {c['recall']:6.4f}  "
                     f"{c['f1']:5.4f}  {c['support']:7d}")
    cls = report["classes"]
    if cls:
        macro = [np.mean([c[k] for c in cls]) for k in ("precision", "recall", "f1")]
        lines.append(f"{'macro avg':<{name_width}}  {macro[0]:9.4f}  {macro[1]:6.4f}  "
                     f"{macro[2]:5.4f}  {report['samples']:7d}")
    return "\n".join(lines)


def plot_history(history: History, out_dir: str | os.PathLike, title: str = "") -> list[Path]:
    """Write ``loss.png`` and ``accuracy.png`` (train vs validation per epoch) to ``out_dir``.

    Uses matplotlib's Agg canvas directly (no GUI, no global backend switch). Returns the
    paths written; accuracy is skipped when the history has none.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    written = []
    epochs = history["epoch"] if len(history) else []
    for metric, label in (("loss", "loss"), ("accuracy", "accuracy")):
        if metric not in history:
            continue
        fig = Figure(figsize=(6, 4), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(epochs, history[metric], marker=".", label=f"train {label}")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], marker=".", label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if metric == "loss" and all(v is not None and v > 0 for v in history[metric]):
            ax.set_yscale("log")
        ax.set_title(f"{title} {label}".strip())
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out_dir / f"{metric}.png"
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png")
        written.append(path)
    return written


def test_report(model, loss_fn, x_test, y_test, classes,
                batch_size: int = 1024) -> tuple[dict, float]:
    """``(classification_report, mean loss)`` of ``model`` on a test set."""
    import chainrule as cr

    from .trainer import predict

    scores = predict(model, x_test, batch_size)
    with cr.no_grad():
        test_loss = float(loss_fn(cr.tensor(scores), cr.tensor(y_test)).item())
    report = classification_report(y_test, scores.argmax(axis=1), len(classes), classes)
    return report, test_loss


test_report.__test__ = False  # a library function, not a test for pytest to collect


def print_report(report: dict, test_loss: float, which: str, log=print) -> None:
    """The test accuracy line and the per-class table."""
    log(f"test accuracy: {report['accuracy']:.4f}  (test loss {test_loss:.4f}, "
        f"{report['samples']} samples, model of {which})")
    log(format_report(report))
