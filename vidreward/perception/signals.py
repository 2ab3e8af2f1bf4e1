"""Small signal helpers for per-frame measurement series: gap filling, least-squares slope,
running windows, detrending, the dominant frequency of a periodic signal, grey frames."""

from __future__ import annotations

import cv2
import numpy as np

SUBHARMONIC_SHARE = 0.9


def fill(x: np.ndarray) -> np.ndarray:
    """``x`` with its NaN gaps filled by linear interpolation (unchanged when all or none are NaN)."""
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    idx = np.arange(len(x))
    return np.interp(idx, idx[ok], x[ok])


def slope(t: np.ndarray, x: np.ndarray) -> float:
    """Least-squares slope of ``x`` over ``t``."""
    tc = t - t.mean()
    denom = float((tc * tc).sum())
    return float((tc * (x - x.mean())).sum() / denom) if denom > 0 else 0.0


def moving(x: np.ndarray, n: int, fn=np.median) -> np.ndarray:
    """``fn`` (default median) over a centred window of ``n`` samples, NaNs ignored."""
    n = max(1, int(n))
    out = np.empty_like(x)
    for i in range(len(x)):
        seg = x[max(0, i - n // 2): i + n // 2 + 1]
        seg = seg[np.isfinite(seg)]
        out[i] = fn(seg) if len(seg) else np.nan
    return out


def detrend(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` minus its least-squares line over ``t``."""
    return x - (x.mean() + slope(t, x) * (t - t.mean()))


def dominant_frequency(t: np.ndarray, x: np.ndarray, fmin: float = 0.2) -> tuple[float, float]:
    """(frequency Hz, peak share of the spectrum's power) of a detrended signal."""
    x = fill(np.asarray(x, float))
    if len(x) < 8 or not np.isfinite(x).all():
        return 0.0, 0.0
    dt = float(np.median(np.diff(t)))
    xd = x - (x.mean() + slope(t, x) * (t - t.mean()))
    n_fft = max(4096, 1 << int(np.ceil(np.log2(len(xd) * 8))))
    spec = np.abs(np.fft.rfft(xd * np.hanning(len(xd)), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, dt)
    band = freqs >= max(fmin, 1.0 / max(dt * (len(xd) - 1), 1e-9))
    if not band.any() or spec[band].sum() <= 0:
        return 0.0, 0.0
    k = int(np.nonzero(band)[0][0] + spec[band].argmax())
    width = max(1, int(round(0.15 / (freqs[1] - freqs[0]))))
    # a periodic motion with a sharp feature (a crouch before each jump) puts much of its power
    # in the second harmonic: when half the peak's frequency carries at least
    # SUBHARMONIC_SHARE of its power, that is the motion's own period
    half = k // 2
    if band[max(0, half - width)]:
        lo, hi = max(0, half - width), half + width + 1
        k_half = lo + int(spec[lo:hi].argmax())
        if spec[k_half] >= SUBHARMONIC_SHARE * spec[k]:
            k = k_half
    share = float(spec[max(0, k - width): k + width + 1].sum() / spec[band].sum())
    return float(freqs[k]), share


def grey(frames: np.ndarray) -> np.ndarray:
    """Colour frames [T, H, W, 3] as grey frames [T, H, W]."""
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
