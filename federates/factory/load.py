"""The AI-factory load: IT (training + inference or a trace), cooling, auxiliaries.

Pure model, no helics. All profiles are functions of *absolute* time on the
grid ``t = i * dt_s``, generated vectorised in chunks and cached, so the load at
an instant does not depend on how the caller splits time into intervals.

IT load (defaults: IT peak 250 MW, 70 % training, both assumed):

* **training** jobs, each with ``share`` of the training GPUs. A job's IT power
  is ``job_mw x ((1 - gpu_fraction) + gpu_fraction x L(t))`` where the GPU level
  ``L`` is a square wave of period ``period_s`` (compute at 1, communication at
  ``trough_fraction``, linear edges of ``rise_time_s``), each iteration's period
  jittered (seeded normal, ``jitter_fraction``), replaced during checkpoints by
  ``checkpoint_fraction``, and scaled by a run envelope (start/stop ramps,
  seeded exponential failures with mean ``mtbf_h`` and restarts after
  ``restart_s``); a stopped job idles at ``idle_fraction``. ``lockstep`` jobs
  share one iteration clock; ``independent`` jobs get their own random phase
  and jitter.
* **inference**: ``mean x (1 + amp cos(2 pi (hour - peak_hour) / 24))`` plus a
  seeded Ornstein-Uhlenbeck noise (std ``noise_fraction``, correlation
  ``noise_tau_s``) and Poisson bursts, clipped to [0, 1] of the inference peak.
* **GPU-side smoothing** (optional; NVIDIA GB200/GB300): the aggregate training
  GPU draw follows demand within ramp-up/ramp-down limits (ramp-down after a
  hysteresis hold) and never below a floor (% of TDP) while jobs run; rack
  storage (J/GPU) supplies the shortfall while it has energy and absorbs
  surplus (the rest is burnt).

Facility (see :class:`Cooling`): cooling is a first-order lag on IT heat
(15-20 % of IT, 5-15 min, assumed); fixed auxiliaries = ``(PUE - 1 - cooling) x IT
peak``.

Simplified: GPU smoothing acts on the aggregate of all training GPUs (one
equivalent rack); non-GPU IT power is constant; a failed job's iteration clock
keeps running underneath its envelope.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from federates.factory.config import FactoryConfig, InferenceConfig, TrainingJob
from federates.factory.filters import BlockFilter, first_order_lag_sos
from federates.factory.trace import TraceProfile

_DAY_S = 86400.0
_BLOCK = 2048  # iterations / breakpoints generated at a time


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


class TrainingJobProfile:
    """GPU level ``L(t)`` in [0, 1] of one training job (fraction of its GPU peak)."""

    def __init__(
        self,
        job: TrainingJob,
        *,
        schedule_rng: np.random.Generator,
        failure_rng: np.random.Generator,
        phase_s: float,
        job_mw: float = 1.0,
        gpu_fraction: float = 1.0,
        base_dir: Path = Path("."),
    ) -> None:
        self.job = job
        self._srng = schedule_rng
        self._frng = failure_rng
        p = job.period_s
        self._starts = np.array([(phase_s % p) - p])
        self._periods = np.empty(0)
        self._bt: list[float] = []
        self._bv: list[float] = []
        self._env_until = -math.inf
        self._env_t = 0.0  # next time from which a failure may be drawn
        self._env_done = False
        self._init_envelope()
        self._trace: TraceProfile | None = None
        self._job_mw, self._gf = job_mw, gpu_fraction
        if job.trace is not None:
            self._trace = TraceProfile(job.trace, base_dir, peak_mw=1.0)

    # -------------------------------------------------------- iteration schedule

    def _extend_schedule(self, t_max: float) -> None:
        j = self.job
        while self._starts[-1] <= t_max:
            z = self._srng.standard_normal(_BLOCK)
            periods = j.period_s * np.clip(1.0 + j.jitter_fraction * z, 0.5, 1.5)
            starts = self._starts[-1] + np.cumsum(periods)
            self._periods = np.concatenate([self._periods, periods])
            self._starts = np.concatenate([self._starts, starts])

    def wave(self, t: np.ndarray) -> np.ndarray:
        """Compute/communication wave with checkpoints (no envelope).

        Parameters
        ----------
        t : numpy.ndarray
            Times [s], non-decreasing.

        Returns
        -------
        numpy.ndarray
            GPU level at each time [fraction of the job's GPU power].
        """
        j = self.job
        self._extend_schedule(float(t[-1]) + j.period_s)
        k = np.searchsorted(self._starts, t, side="right") - 1
        u = t - self._starts[k]
        rise = max(j.rise_time_s, 1e-6)
        high = j.compute_duty * self._periods[k]
        w = np.clip(np.minimum(u, high + rise - u) / rise, 0.0, 1.0)
        level = j.trough_fraction + (1.0 - j.trough_fraction) * w
        if j.checkpoint_duration_s > 0:
            off = (
                j.checkpoint_offset_s
                if j.checkpoint_offset_s is not None
                else j.checkpoint_interval_s
            )
            rel = t - off
            n = np.floor(rel / j.checkpoint_interval_s)
            v = rel - n * j.checkpoint_interval_s
            c = np.clip(np.minimum(v, j.checkpoint_duration_s - v) / rise, 0.0, 1.0)
            c = np.where(rel >= 0, c, 0.0)
            level = level + c * (j.checkpoint_fraction - level)
        return level

    # -------------------------------------------------------- run envelope

    def _add(self, t: float, v: float) -> None:
        if self._bt and t <= self._bt[-1]:
            t = self._bt[-1] + 1e-9
        self._bt.append(t)
        self._bv.append(v)

    def _init_envelope(self) -> None:
        j = self.job
        if j.start_s is None:
            self._add(-1.0, 1.0)
            self._env_t = 0.0
        else:
            self._add(-1.0, 0.0)
            self._add(j.start_s, 0.0)
            self._add(j.start_s + max(j.start_ramp_s, 1e-6), 1.0)
            self._env_t = j.start_s + j.start_ramp_s

    def envelope(self, t: np.ndarray) -> np.ndarray:
        """1 while the job runs, 0 while stopped; linear ramps in between.

        Parameters
        ----------
        t : numpy.ndarray
            Times [s], non-decreasing.

        Returns
        -------
        numpy.ndarray
            Run envelope at each time [-], 0 to 1.
        """
        if self.job.mtbf_h is None and self.job.stop_s is None:
            if self.job.start_s is None:
                return np.ones_like(t)
            return np.interp(t, self._bt, self._bv)
        self._extend_envelope_exact(float(t[-1]))
        return np.interp(t, self._bt, self._bv)

    def _extend_envelope_exact(self, t_max: float) -> None:
        """Generate failures in order until past ``t_max`` (exactly reproducible)."""
        j = self.job
        stop = j.stop_s if j.stop_s is not None else math.inf
        abort = max(j.rise_time_s, 1e-3)
        while not self._env_done and self._env_until <= t_max:
            if j.mtbf_h is None:
                tf = math.inf
            else:
                tf = self._env_t + float(self._frng.exponential(j.mtbf_h * 3600.0))
            if tf >= stop:
                if math.isfinite(stop):
                    self._add(stop, 1.0)
                    self._add(stop + max(j.stop_ramp_s, 1e-6), 0.0)
                self._env_done = True
                break
            self._add(tf, 1.0)
            self._add(tf + abort, 0.0)
            t_back = tf + j.restart_s
            if t_back >= stop:
                self._env_done = True
                break
            self._add(t_back, 0.0)
            self._add(t_back + max(j.start_ramp_s, 1e-6), 1.0)
            self._env_t = t_back + j.start_ramp_s
            self._env_until = self._env_t

    def level(self, t: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(GPU level ``L(t)``, run envelope) at the step starts ``t``.

        Parameters
        ----------
        t : numpy.ndarray
            Step starts [s], non-decreasing.
        dt_s : float
            Step length [s] (a trace is averaged over ``[t, t + dt_s)``).

        Returns
        -------
        level : numpy.ndarray
            GPU level ``L(t)`` [fraction of the job's GPU power].
        envelope : numpy.ndarray
            Run envelope [-], 0 to 1.
        """
        j = self.job
        env = self.envelope(t)
        if self._trace is not None:
            raw = self._trace.mean_mw(t, t + dt_s)
            if j.trace is not None and j.trace.unit != "fraction":
                gf = self._gf if self._gf > 0 else 1.0
                raw = np.clip((raw / self._job_mw - (1.0 - self._gf)) / gf, 0.0, None)
            wave = raw
        else:
            wave = self.wave(t)
        return j.idle_fraction + (wave - j.idle_fraction) * env, env


class InferenceProfile:
    """Inference level in [0, 1] of the inference peak (sequential chunks)."""

    def __init__(
        self, cfg: InferenceConfig, rng_noise: np.random.Generator, rng_burst: np.random.Generator
    ) -> None:
        self.cfg = cfg
        self._rn = rng_noise
        self._rb = rng_burst
        self._x = float(rng_noise.standard_normal()) * cfg.noise_fraction  # stationary start
        self._lag: BlockFilter | None = None  # AR(1) noise filter, built for the first step length
        self._lag_a = math.nan
        self._bt: list[float] = [-1.0]
        self._bv: list[float] = [0.0]
        self._burst_until = -1.0

    def _extend_bursts(self, t_max: float) -> None:
        c = self.cfg
        if c.burst_rate_per_h <= 0 or c.burst_fraction <= 0:
            return
        edge = 1.0
        while self._burst_until <= t_max:
            start = self._burst_until + float(self._rb.exponential(3600.0 / c.burst_rate_per_h))
            dur = max(float(self._rb.exponential(c.burst_duration_s)), 2 * edge)
            start = max(start, self._bt[-1] + 1e-6)
            self._bt += [start, start + edge, start + dur - edge, start + dur]
            self._bv += [0.0, c.burst_fraction, c.burst_fraction, 0.0]
            self._burst_until = start + dur

    def level(self, t: np.ndarray, dt_s: float) -> np.ndarray:
        """Inference load level at the step starts ``t`` (diurnal cycle, noise and bursts).

        Parameters
        ----------
        t : numpy.ndarray
            Step starts [s], non-decreasing.
        dt_s : float
            Step length [s] (sets the noise lag's pole).

        Returns
        -------
        numpy.ndarray
            Level [fraction of the inference power], clipped to 0 to 1.
        """
        c = self.cfg
        hour = t / 3600.0 + c.start_hour
        lvl = c.mean_fraction * (
            1.0 + c.diurnal_amplitude * np.cos(2 * np.pi * (hour - c.peak_hour) / 24.0)
        )
        if c.noise_fraction > 0:
            a = math.exp(-dt_s / c.noise_tau_s)
            w = self._rn.standard_normal(len(t)) * (c.noise_fraction * math.sqrt(1 - a * a))
            if self._lag is None or self._lag_a != a:
                self._lag, self._lag_a = BlockFilter(first_order_lag_sos(a)), a
            noise, _ = self._lag.run(w, np.array([[a * self._x, 0.0]]))
            self._x = float(noise[-1])
            lvl = lvl + noise
        if c.burst_rate_per_h > 0 and c.burst_fraction > 0:
            self._extend_bursts(float(t[-1]))
            lvl = lvl + np.interp(t, self._bt, self._bv)
        return np.clip(lvl, 0.0, 1.0)


class GpuSmoother:
    """Aggregate GPU-side smoothing (floor, ramp limits with hysteresis, rack storage)."""

    def __init__(
        self,
        floor_fraction: float,
        up_mw_s: float,
        down_mw_s: float,
        hysteresis_s: float,
        storage_mws: float,
    ) -> None:
        self.floor = floor_fraction
        self.up, self.down, self.hyst = up_mw_s, down_mw_s, hysteresis_s
        self.s_max = storage_mws
        self.s = storage_mws
        self.g: float | None = None
        self.hold = 0.0

    def run(self, demand: list[float], floor_mw: list[float], dt: float) -> np.ndarray:
        """Grid-side GPU draw [MW] for GPU ``demand`` [MW] with the ``floor_mw`` per step.

        Parameters
        ----------
        demand : list of float
            GPU demand per step [MW].
        floor_mw : list of float
            Minimum grid-side draw per step [MW].
        dt : float
            Step length [s].

        Returns
        -------
        numpy.ndarray
            Grid-side GPU draw per step [MW].
        """
        g = demand[0] if self.g is None else self.g
        s, hold, up, down, hyst, s_max = (
            self.s,
            self.hold,
            self.up * dt,
            self.down * dt,
            self.hyst,
            self.s_max,
        )
        out = []
        for d, fl in zip(demand, floor_mw, strict=True):
            target = d if d > fl else fl
            if target >= g:
                hold = 0.0
                gn = target if target < g + up else g + up
            else:
                hold += dt
                gn = g  # hold the draw for the hysteresis time, then ramp down
                if hold >= hyst:
                    gn = target if target > g - down else g - down
            need = d - gn  # > 0: storage supplies, < 0: surplus charges storage or is burnt
            if need > 0.0:
                avail = s / dt
                if need > avail:
                    gn = d - avail
                    s = 0.0
                else:
                    s -= need * dt
            else:
                s -= need * dt
                if s > s_max:
                    s = s_max
            g = gn
            out.append(g)
        self.g, self.s, self.hold = g, s, hold
        return np.array(out)


class ItLoad:
    """IT power [MW] on the grid ``t = i * dt_s``, in cached chunks (independent of the grid)."""

    def __init__(
        self,
        cfg: FactoryConfig,
        *,
        seed: int,
        dt_s: float,
        base_dir: Path = Path("."),
        chunk_s: float = 60.0,
    ) -> None:
        self.cfg = cfg
        self.dt_s = dt_s
        self.n_chunk = max(1, int(round(chunk_s / dt_s)))
        it_peak = cfg.it_peak_mw
        self.trace: TraceProfile | None = None
        if cfg.profile == "trace" and cfg.trace is not None:
            peak = it_peak if cfg.trace.applies_to == "it" else cfg.site_peak_mw
            self.trace = TraceProfile(cfg.trace, base_dir, peak_mw=peak)
        tr = cfg.training
        self.train_mw = it_peak * cfg.training_share
        self.inf_mw = it_peak * (1.0 - cfg.training_share)
        self.jobs: list[TrainingJobProfile] = []
        self.job_mw: list[float] = []
        phase_rng = _rng(seed, 1)
        for i, job in enumerate(tr.jobs):
            if tr.sync == "lockstep":
                srng, phase = _rng(seed, 2), job.phase_s
            else:
                srng, phase = (
                    _rng(seed, 2, i),
                    job.phase_s + float(phase_rng.uniform(0, job.period_s)),
                )
            mw = self.train_mw * job.share
            self.jobs.append(
                TrainingJobProfile(
                    job,
                    schedule_rng=srng,
                    failure_rng=_rng(seed, 3, i),
                    phase_s=phase,
                    job_mw=mw,
                    gpu_fraction=tr.gpu_fraction,
                    base_dir=base_dir,
                )
            )
            self.job_mw.append(mw)
        self.inference = InferenceProfile(cfg.inference, _rng(seed, 4), _rng(seed, 5))
        gs = cfg.gpu_smoothing
        self.smoother: GpuSmoother | None = None
        gpu_mw = sum(self.job_mw) * tr.gpu_fraction
        if gs.enabled and gpu_mw > 0:
            n_gpu = gpu_mw * 1000.0 / gs.gpu_tdp_kw
            self.smoother = GpuSmoother(
                gs.floor_fraction,
                gs.ramp_up_per_s * gpu_mw,
                gs.ramp_down_per_s * gpu_mw,
                gs.hysteresis_s,
                gs.storage_j_per_gpu * n_gpu / 1e6,
            )
        self._cache: dict[int, dict[str, np.ndarray]] = {}
        self._next_chunk = 0

    def _make_chunk(self, c: int) -> dict[str, np.ndarray]:
        dt = self.dt_s
        i = np.arange(c * self.n_chunk, (c + 1) * self.n_chunk)
        t = i * dt
        if self.trace is not None:
            it = self.trace.mean_mw(t, t + dt)
            zero = np.zeros_like(t)
            return {"it": it, "training": zero, "inference": zero}
        gf = self.cfg.training.gpu_fraction
        demand = np.zeros_like(t)
        floor = np.zeros_like(t)
        const = 0.0
        for job, mw in zip(self.jobs, self.job_mw, strict=True):
            lvl, env = job.level(t, dt)
            demand += mw * gf * lvl
            const += mw * (1.0 - gf)
            if self.smoother is not None:
                floor += mw * gf * self.smoother.floor * env
        gpu = (
            self.smoother.run(demand.tolist(), floor.tolist(), dt)
            if self.smoother is not None
            else demand
        )
        training = gpu + const
        inference = (
            self.inf_mw * self.inference.level(t, dt) if self.inf_mw > 0 else np.zeros_like(t)
        )
        return {"it": training + inference, "training": training, "inference": inference}

    def _chunk(self, c: int) -> dict[str, np.ndarray]:
        got = self._cache.get(c)
        if got is not None:
            return got
        if c < self._next_chunk:
            raise ValueError(f"IT load chunk {c} was dropped from the cache (time went backwards)")
        while self._next_chunk <= c:  # stateful generators: produce chunks in order
            chunk = self._make_chunk(self._next_chunk)
            for arr in chunk.values():
                arr.flags.writeable = False  # handed out as views: nobody may write into the cache
            self._cache[self._next_chunk] = chunk
            self._next_chunk += 1
        for old in [k for k in self._cache if k < c - 1]:
            del self._cache[old]
        return self._cache[c]

    def window(self, i0: int, n: int, key: str = "it") -> np.ndarray:
        """Values at grid indices ``i0 .. i0 + n - 1``.

        Parameters
        ----------
        i0 : int
            First grid index (time ``i0 * dt_s`` [s]).
        n : int
            Number of values.
        key : str, default "it"
            Series: ``"it"``, ``"training"`` or ``"inference"`` power [MW].

        Returns
        -------
        numpy.ndarray
            The ``n`` values [MW].
        """
        c0, off = divmod(i0, self.n_chunk)
        if off + n <= self.n_chunk:
            return self._chunk(c0)[key][off : off + n]
        parts = []
        while n > 0:
            c, off = divmod(i0, self.n_chunk)
            take = min(n, self.n_chunk - off)
            parts.append(self._chunk(c)[key][off : off + take])
            i0 += take
            n -= take
        return np.concatenate(parts)

    def at(self, idx: np.ndarray, key: str = "it") -> np.ndarray:
        """Values at arbitrary (non-decreasing) grid indices.

        Parameters
        ----------
        idx : numpy.ndarray
            Grid indices (time ``idx * dt_s`` [s]), non-decreasing.
        key : str, default "it"
            Series: ``"it"``, ``"training"`` or ``"inference"`` power [MW].

        Returns
        -------
        numpy.ndarray
            Values at ``idx`` [MW].
        """
        i0 = int(idx[0])
        block = self.window(i0, int(idx[-1]) - i0 + 1, key)
        return block[idx - i0]
