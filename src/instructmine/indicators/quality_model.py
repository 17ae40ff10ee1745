"""The distilled scorer: a small head over per-record features, trained *within instruction*.

Absolute judge labels mostly say how hard an instruction is and how long an answer is
(DESIGN §5, scorer probe). So the scorer learns from differences between answers to the *same*
instruction: labels (after ``label_transform``) are centred per instruction, and

- ``ridge``: features are centred per instruction too (a fixed-effects ridge regression: only
  within-instruction variation is fitted), closed form, ``alpha`` picked on held-out groups;
- ``hgb``: scikit-learn's HistGradientBoostingRegressor on the raw features, regressing the
  centred label (non-linear, still blind to the instruction's own level).

``length_neutral=True`` also removes the within-instruction linear effect of log answer length
from the labels and drops the explicit length features, so the head cannot buy agreement by
preferring longer answers.

A scorer is a folder: ``scorer.json`` (feature config, head, provenance and metrics) and
``head.npz`` (ridge weights; KBs) or ``head.pkl`` (the boosted trees).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from instructmine.indicators.quality_features import CHEAP_NAMES, FeatureConfig

LENGTH_FEATURES = ("log_chars", "log_words", "log_ratio")


class HeadConfig(BaseModel):
    """How the head is trained."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["ridge", "hgb"] = "ridge"
    label_transform: Literal["raw", "logit", "rank"] = "logit"
    length_neutral: bool = False
    alphas: list[float] = Field(default_factory=lambda: [1.0, 10.0, 100.0, 1000.0, 10000.0])
    max_iter: int = Field(300, gt=0, description="hgb boosting rounds")


def transform_labels(y: np.ndarray, groups: np.ndarray, how: str) -> np.ndarray:
    """Labels on the scale the head fits (``logit`` of probabilities, or within-group ``rank``)."""
    y = np.asarray(y, dtype=np.float64)
    if how == "logit":
        p = np.clip(y, 1e-3, 1 - 1e-3)
        return np.log(p / (1 - p))
    if how == "rank":
        from scipy.stats import rankdata

        out = np.empty_like(y)
        for idx in _group_index(groups):
            out[idx] = (rankdata(y[idx]) - 1) / max(len(idx) - 1, 1)
        return out
    return y


def _group_index(groups: np.ndarray) -> list[np.ndarray]:
    _, inv = np.unique(groups, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    return np.split(order, bounds)


def centre(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``x`` minus its mean within each group (rows of a 2-D array, or a 1-D array)."""
    x = np.asarray(x, dtype=np.float64)
    _, inv = np.unique(groups, return_inverse=True)
    counts = np.bincount(inv)
    if x.ndim == 1:
        return x - (np.bincount(inv, weights=x) / counts)[inv]
    sums = np.zeros((len(counts), x.shape[1]))
    np.add.at(sums, inv, x)
    return x - (sums / counts[:, None])[inv]


def _ridge(xc: np.ndarray, yc: np.ndarray, alpha: float) -> np.ndarray:
    a = xc.T @ xc + alpha * np.eye(xc.shape[1])
    return np.linalg.solve(a, xc.T @ yc)


class Scorer:
    """A trained scorer: ``predict(features)`` gives one quality score per record."""

    def __init__(self, features: FeatureConfig, head: HeadConfig, keep: np.ndarray, meta: dict):
        self.features, self.head, self.keep, self.meta = features, head, keep, meta
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.coef: np.ndarray | None = None
        self.model: Any = None

    @staticmethod
    def feature_mask(features: FeatureConfig, n_features: int, head: HeadConfig) -> np.ndarray:
        """Which feature columns the head reads (length features dropped when length-neutral)."""
        keep = np.ones(n_features, dtype=bool)
        if head.length_neutral:
            base = n_features - len(CHEAP_NAMES)
            for name in LENGTH_FEATURES:
                keep[base + CHEAP_NAMES.index(name)] = False
        return keep

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        features: FeatureConfig,
        head: HeadConfig,
        meta: dict | None = None,
        seed: int = 0,
    ) -> Scorer:
        """Train on feature rows ``x`` with labels ``y`` of instructions ``groups``."""
        keep = cls.feature_mask(features, x.shape[1], head)
        self = cls(features, head, keep, dict(meta or {}))
        log_chars = x[:, x.shape[1] - len(CHEAP_NAMES) + CHEAP_NAMES.index("log_chars")]
        x = x[:, keep]
        yc = centre(transform_labels(y, groups, head.label_transform), groups)
        if head.length_neutral:
            lc = centre(log_chars, groups)
            yc = yc - (lc @ yc) / max(lc @ lc, 1e-12) * lc
        self.mean, self.scale = x.mean(0), x.std(0) + 1e-8
        z = (x - self.mean) / self.scale
        if head.kind == "ridge":
            zc = centre(z, groups)
            alpha = self._pick_alpha(zc, yc, groups, seed)
            self.coef = _ridge(zc, yc, alpha)
            self.meta["alpha"] = alpha
        else:
            from sklearn.ensemble import HistGradientBoostingRegressor

            self.model = HistGradientBoostingRegressor(
                max_iter=head.max_iter,
                learning_rate=0.05,
                max_leaf_nodes=15,
                l2_regularization=1.0,
                random_state=seed,
            ).fit(z, yc)
        return self

    def _pick_alpha(self, zc: np.ndarray, yc: np.ndarray, groups: np.ndarray, seed: int) -> float:
        """The alpha with the best within-group correlation on 3 folds of instructions."""
        uniq = np.unique(groups)
        fold = dict(zip(uniq, np.random.default_rng(seed).integers(0, 3, len(uniq)), strict=True))
        f = np.array([fold[g] for g in groups])
        best, best_alpha = -np.inf, self.head.alphas[0]
        for alpha in self.head.alphas:
            r = []
            for k in range(3):
                w = _ridge(zc[f != k], yc[f != k], alpha)
                p = zc[f == k] @ w
                r.append(np.corrcoef(p, yc[f == k])[0, 1])
            if np.mean(r) > best:
                best, best_alpha = float(np.mean(r)), alpha
        return best_alpha

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Quality scores of feature rows (higher is better; comparable across records)."""
        z = (x[:, self.keep] - self.mean) / self.scale
        if self.coef is not None:
            return z @ self.coef
        return self.model.predict(z)

    # -- folder ------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the scorer folder (replaced only when complete)."""
        from instructmine.atomic import atomic_path

        with atomic_path(folder, folder=True) as tmp:
            tmp = Path(tmp)
            tmp.mkdir(parents=True, exist_ok=True)
            arrays = {"mean": self.mean, "scale": self.scale, "keep": self.keep}
            if self.coef is not None:
                arrays["coef"] = self.coef
            else:
                (tmp / "head.pkl").write_bytes(pickle.dumps(self.model))
            np.savez(tmp / "head.npz", **arrays)
            doc = {
                "format": "instructmine-scorer/1",
                "features": self.features.model_dump(mode="json"),
                "head": self.head.model_dump(mode="json"),
                **self.meta,
            }
            (tmp / "scorer.json").write_text(json.dumps(doc, indent=2) + "\n")
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path) -> Scorer:
        """Read a scorer folder written by :meth:`save`."""
        folder = Path(folder)
        doc_path = folder / "scorer.json"
        if not doc_path.exists():
            raise FileNotFoundError(
                f"{folder}: not a scorer folder (no scorer.json); train one with "
                "`instructmine scorer train`"
            )
        doc = json.loads(doc_path.read_text())
        features = FeatureConfig(**doc.pop("features"))
        head = HeadConfig(**doc.pop("head"))
        doc.pop("format", None)
        with np.load(folder / "head.npz") as z:
            self = cls(features, head, z["keep"], doc)
            self.mean, self.scale = z["mean"], z["scale"]
            self.coef = z.get("coef", None)
        if self.coef is None:
            # Only scorer folders this project wrote (a pickled scikit-learn model).
            self.model = pickle.loads((folder / "head.pkl").read_bytes())
        return self
