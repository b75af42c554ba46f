"""Gaussian-process emulators of model outputs (scikit-learn), for history matching and for
Sobol indices of an expensive model.

Inputs are scaled to the unit cube; each output gets its own GP with an anisotropic RBF
kernel (one length scale per parameter) plus a white-noise term that absorbs the model's
run-to-run (seed) variation, so the emulator predicts the mean over seeds.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel


class Emulator:
    """One GP per output column; ``predict`` gives means and standard deviations."""

    def __init__(self, unit_x: np.ndarray, y: np.ndarray, seed: int = 0):
        unit_x = np.asarray(unit_x, dtype=float)
        y = np.asarray(y, dtype=float).reshape(len(unit_x), -1)
        self.models = []
        for column in y.T:
            keep = np.isfinite(column)
            kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                      * RBF(np.full(unit_x.shape[1], 0.5), (1e-2, 1e2))
                      + WhiteKernel(0.1, (1e-6, 1e1)))
            gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                          random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(unit_x[keep], column[keep])
            self.models.append(gp)

    def predict(self, unit_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and SDs of the emulated mean output (noise term excluded), shape (n, outputs)."""
        means, sds = [], []
        for gp in self.models:
            mean, sd = gp.predict(np.asarray(unit_x, dtype=float), return_std=True)
            noise = _noise_variance(gp)
            means.append(mean)
            sds.append(np.sqrt(np.maximum(sd**2 - noise, 0.0)))
        return np.column_stack(means), np.column_stack(sds)

    def noise_sd(self) -> np.ndarray:
        """Each output's fitted run-to-run SD (the white-noise term), in output units."""
        return np.sqrt([_noise_variance(gp) for gp in self.models])


def _noise_variance(gp: GaussianProcessRegressor) -> float:
    """The fitted white-noise variance in output units (normalize_y scales it)."""
    white = gp.kernel_.k2.noise_level
    return float(white * gp._y_train_std**2)
