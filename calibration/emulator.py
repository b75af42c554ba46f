"""Gaussian-process emulators of model outputs (scikit-learn), for history matching, ABC on
the emulator and Sobol indices of an expensive model.

Inputs are scaled to the unit cube; each output gets its own GP with an anisotropic RBF
kernel (one length scale per parameter). The emulator predicts the model's mean over seeds
at a point (``predict``: mean and SD of that mean) and the run-to-run SD of one run there
(``noise_sd``). How it learns the run-to-run noise depends on the design:

- **one run per point**: a white-noise term absorbs the seed noise, the same everywhere
  (homoscedastic);
- **replicates** (several seeds per point): replicate-aware and heteroscedastic, after
  Andrianakis et al. (J R Stat Soc C 2017; 66:717): a second GP emulates the log of the
  replicate variance (each sample log-variance corrected for its bias, digamma((r-1)/2) +
  log(2/(r-1)) for r replicates), and the mean GP is fitted to the replicate means with each
  point's own noise, the emulated variance over r, as its nugget (scikit-learn's per-point
  ``alpha``). A small white-noise term remains for what neither explains, and counts as
  uncertainty about the mean. Where the model is noisier in one corner of the space than
  another, implausibility and ABC then use the noise of that corner.

``validate`` is the leave-out check that comes with every calibration: each fold of the
design points is predicted by the GPs refitted without it (hyperparameters kept), and the
standardised errors (observed mean - predicted) / SD are summarised per output: share
within 2 SD and coverage of the 90% interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.spatial.distance import cdist
from scipy.special import digamma
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

#: Points predicted at once (bounds the memory of a prediction: chunk x design points).
CHUNK = 10_000
#: z of a two-sided 90% interval.
Z90 = 1.6448536269514722


class _Fast:
    """A fitted scikit-learn GP (constant x RBF + white kernel) as plain arrays: its
    predictions by two matrix products, with no per-call overhead (ABC predicts one point
    at a time, tens of thousands of times). The latent function's mean and variance, in the
    GP's output units; white noise not included."""

    def __init__(self, gp: GaussianProcessRegressor):
        kernel = gp.kernel_
        self.c = float(kernel.k1.k1.constant_value)
        self.ls = np.atleast_1d(kernel.k1.k2.length_scale).astype(float)
        self.white = float(kernel.k2.noise_level)
        self.x = gp.X_train_ / self.ls
        self.alpha = np.ravel(gp.alpha_)
        self.l_inv = solve_triangular(gp.L_, np.eye(len(self.x)), lower=True)
        self.centre = float(np.ravel(gp._y_train_mean)[0])
        self.scale = float(np.ravel(gp._y_train_std)[0])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.c * np.exp(-0.5 * cdist(x / self.ls, self.x, "sqeuclidean"))
        v = k @ self.l_inv.T
        var = np.maximum(self.c - np.einsum("ij,ij->i", v, v), 0.0)
        return k @ self.alpha * self.scale + self.centre, var * self.scale**2


def _kernel(dim: int, white: float = 0.1, white_bounds=(1e-6, 1e1)):
    return (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(dim, 0.5), (1e-2, 1e2))
            + WhiteKernel(white, white_bounds))


def _fit(gp: GaussianProcessRegressor, x: np.ndarray, y: np.ndarray) -> GaussianProcessRegressor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gp.fit(x, y)


def _chunked(predict, unit_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means, sds = [], []
    for start in range(0, max(len(unit_x), 1), CHUNK):
        mean, sd = predict(unit_x[start:start + CHUNK])
        means.append(mean)
        sds.append(sd)
    return np.concatenate(means), np.concatenate(sds)


class _Output:
    """One output's emulator: the mean GP and, with replicates, the log-variance GP."""

    def __init__(self, x: np.ndarray, runs: np.ndarray, seed: int):
        counts = np.isfinite(runs).sum(axis=1)
        keep = counts > 0
        self.x, self.counts = x[keep], counts[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.means = np.nanmean(runs[keep], axis=1)
            variances = np.nanvar(runs[keep], axis=1, ddof=1) if runs.shape[1] > 1 else None
        self.seed = seed
        self.log_var: GaussianProcessRegressor | None = None
        self.replicated = variances is not None and bool(np.any(self.counts >= 2))
        if not self.replicated:
            self.gp = _fit(GaussianProcessRegressor(_kernel(x.shape[1]), normalize_y=True,
                                                    n_restarts_optimizer=2, random_state=seed),
                           self.x, self.means)
            self.fast = _Fast(self.gp)
            return
        self._fit_noise(variances)
        self.centre = float(np.mean(self.means))
        self.scale = float(np.std(self.means)) or 1.0
        self.alpha = self._alpha(self.x, self.counts)
        self.gp = _fit(GaussianProcessRegressor(_kernel(x.shape[1], 1e-3, (1e-8, 1e1)),
                                                alpha=self.alpha, n_restarts_optimizer=2,
                                                random_state=seed),
                       self.x, (self.means - self.centre) / self.scale)
        self.fast = _Fast(self.gp)

    def _fit_noise(self, variances: np.ndarray) -> None:
        """The GP of the log replicate variance, each sample log-variance bias-corrected."""
        has = self.counts >= 2
        r = self.counts[has]
        v = variances[has]
        positive = v[v > 0]
        if len(positive) == 0:  # the output does not vary between seeds
            self.zero_noise = True
            return
        self.zero_noise = False
        floor = float(np.min(positive)) * 1e-3
        bias = digamma((r - 1) / 2) + np.log(2 / (r - 1))
        z = np.log(np.maximum(v, floor)) - bias
        self.log_var = _fit(GaussianProcessRegressor(_kernel(self.x.shape[1]), normalize_y=True,
                                                     n_restarts_optimizer=1,
                                                     random_state=self.seed),
                            self.x[has], z)
        self.fast_log_var = _Fast(self.log_var)

    def _alpha(self, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Each design point's nugget: the noise variance of its mean, in scaled units."""
        return self.noise_var(x) / counts / self.scale**2 + 1e-10

    def noise_var(self, x: np.ndarray) -> np.ndarray:
        """Run-to-run variance of one run at each point of ``x``."""
        if not self.replicated:
            return np.full(len(x), _white(self.gp))
        if self.zero_noise:
            return np.zeros(len(x))
        return np.exp(self.fast_log_var.predict(x)[0])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and SD of the emulated mean output at ``x``: the mean function's with one
        run per point (the white noise is the run's noise); with replicates the white term
        is lack of fit and counts as uncertainty about the mean."""
        mean, var = self.fast.predict(x)
        if not self.replicated:
            return mean, np.sqrt(var)
        return mean * self.scale + self.centre, np.sqrt(var + self.fast.white) * self.scale

    def held_out(self, folds: int, rng: np.random.Generator) -> np.ndarray:
        """Standardised errors of each design point predicted without its fold (the fitted
        hyperparameters kept, as in Bastos and O'Hagan's diagnostics)."""
        n = len(self.x)
        fold = rng.permutation(n) % min(folds, n)
        z = np.full(n, np.nan)
        for f in range(min(folds, n)):
            train, test = fold != f, fold == f
            if train.sum() < 2:
                continue
            if self.replicated:
                gp = GaussianProcessRegressor(self.gp.kernel_, alpha=self.alpha[train],
                                              optimizer=None)
                gp.fit(self.x[train], (self.means[train] - self.centre) / self.scale)
                mean, sd = gp.predict(self.x[test], return_std=True)
                mean, var = mean * self.scale + self.centre, (sd * self.scale) ** 2
                var = var + self.noise_var(self.x[test]) / self.counts[test]
            else:
                gp = GaussianProcessRegressor(self.gp.kernel_, normalize_y=True, optimizer=None)
                gp.fit(self.x[train], self.means[train])
                mean, sd = gp.predict(self.x[test], return_std=True)
                white = _white(gp)
                var = np.maximum(sd**2 - white, 0.0) + white / self.counts[test]
            z[test] = (self.means[test] - mean) / np.sqrt(np.maximum(var, 1e-300))
        return z


def _white(gp: GaussianProcessRegressor) -> float:
    """The fitted white-noise variance in output units (normalize_y scales it)."""
    return float(gp.kernel_.k2.noise_level * gp._y_train_std**2)


class Emulator:
    """One GP per output column; ``predict`` gives means and SDs of the mean output.

    ``y`` is (points, outputs), one run per point, or (points, replicates, outputs); NaN
    marks a run whose output is undefined (left out of that output's fit).
    """

    def __init__(self, unit_x: np.ndarray, y: np.ndarray, seed: int = 0):
        unit_x = np.asarray(unit_x, dtype=float)
        y = np.asarray(y, dtype=float)
        if y.ndim < 3:
            y = y.reshape(len(unit_x), 1, -1)
        self.replicates = y.shape[1]
        self.outputs = [_Output(unit_x, y[:, :, k], seed) for k in range(y.shape[2])]

    @property
    def heteroscedastic(self) -> bool:
        """Whether the run-to-run noise is emulated point by point (replicates)."""
        return any(o.replicated for o in self.outputs)

    def predict(self, unit_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and SDs of the emulated mean output (run noise excluded), (n, outputs)."""
        unit_x = np.asarray(unit_x, dtype=float)
        pairs = [_chunked(o.predict, unit_x) for o in self.outputs]
        return (np.column_stack([m for m, _ in pairs]), np.column_stack([s for _, s in pairs]))

    def noise_sd(self, unit_x: np.ndarray) -> np.ndarray:
        """Run-to-run SD of one run at each point, in output units, (n, outputs)."""
        unit_x = np.asarray(unit_x, dtype=float)
        return np.sqrt(np.column_stack([o.noise_var(unit_x) for o in self.outputs]))

    def mean_cov(self, unit_x: np.ndarray, column: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of output ``column``'s mean function at the rows of
        ``unit_x`` (for draws of the whole emulated function, as Sobol indices need)."""
        out = self.outputs[column]
        mean, cov = out.gp.predict(np.asarray(unit_x, dtype=float), return_cov=True)
        if not out.replicated:
            cov[np.diag_indices_from(cov)] -= _white(out.gp)  # the mean, not a run
            return mean, cov
        return mean * out.scale + out.centre, cov * out.scale**2

    def validate(self, names: list[str], folds: int = 5, seed: int = 0) -> pd.DataFrame:
        """Leave-out validation per output (see the module docstring)."""
        rows = []
        for name, out in zip(names, self.outputs, strict=True):
            z = out.held_out(folds, np.random.default_rng(seed))
            z = z[np.isfinite(z)]
            rows.append({"output": name, "points": len(z),
                         "noise": "heteroscedastic" if out.replicated else "homoscedastic",
                         "mean_z": float(np.mean(z)) if len(z) else np.nan,
                         "sd_z": float(np.std(z)) if len(z) else np.nan,
                         "max_abs_z": float(np.max(np.abs(z))) if len(z) else np.nan,
                         "share_within_2sd": float(np.mean(np.abs(z) <= 2)) if len(z) else np.nan,
                         "coverage_90": float(np.mean(np.abs(z) <= Z90)) if len(z) else np.nan})
        return pd.DataFrame(rows)
