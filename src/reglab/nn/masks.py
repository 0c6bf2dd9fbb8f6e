"""Dropout and DropConnect masks, each member drawing from its own generator.

A member's masks must not depend on the rest of its population: a member trained in a
population of 16 draws exactly what it draws when trained alone. So every member has
its own generator (seeded from its seed), draws only for its own real rows, and the
draws of all members are compared with their rates in one operation.

On the CPU a member's generator is NumPy's PCG64, and a unit is kept when a 32-bit
random integer is at least ``rate * 2**32``: a uniform on a grid of ``2**-32``, finer
than a float32 uniform's ``2**-24``. Each raw 64-bit output gives two such integers,
about twice as fast as drawing float32 uniforms (and several times torch's Mersenne
Twister); after the matrix products, the draws are the largest cost of a small
population's step. On a GPU the device's own generator draws float uniforms.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

__all__ = ["MaskSource", "derive_seed"]

_INT32_MAX = 2**31 - 1


def derive_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for one random stream of one member, independent of other streams.

    Examples
    --------
    >>> derive_seed(0, "masks") == derive_seed(0, "masks") != derive_seed(0, "shuffle")
    True
    """
    digest = hashlib.sha256(f"{int(seed)}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class MaskSource:
    """The mask generators of a population's members, and buffers kept between steps.

    Examples
    --------
    >>> masks = MaskSource([0, 1], "cpu")
    >>> keep = masks.keep([0.0, 0.5], (2, 3, 4), None, layer="dropout_0")
    >>> bool(keep[0].eq(1).all()), sorted(keep[1].unique().tolist()) == [0.0, 1.0]
    (True, True)
    """

    def __init__(self, seeds, device) -> None:
        self.device = torch.device(device)
        self.on_cpu = self.device.type == "cpu"
        if self.on_cpu:
            self.generators = [np.random.PCG64(derive_seed(s, "masks")) for s in seeds]
        else:
            self.generators = [
                torch.Generator(device=self.device).manual_seed(derive_seed(s, "masks"))
                for s in seeds
            ]
        self._buffers: dict = {}
        # Gaussian noise comes from a stream of its own, so adding a noise layer leaves
        # every member's dropout masks as they were.
        self.noise = [
            torch.Generator(device=self.device).manual_seed(derive_seed(s, "noise")) for s in seeds
        ]

    def keep(self, rates, shape, counts, *, layer: str, scale=None, first: int = 0) -> torch.Tensor:
        """A mask of ``shape`` ``(K, ...)``: 1 (or ``scale``) where kept, 0 where dropped.

        ``first`` is the population index of the first of the members the mask is for
        (``rates`` and ``counts`` are theirs): a run of members draws from their own
        generators, so each member's mask is the one it draws in the whole population.

        ``counts`` (or None for all) is each member's number of real rows: a member
        draws for those only, as it would alone. Members with rate 0 never draw. The
        mask is a buffer owned by ``layer`` and overwritten by that layer's next draw
        (a fresh 0/1 tensor per step, from a boolean comparison, cost several times
        more than the comparison written straight into floats).
        """
        key = (layer, tuple(shape), first)
        cached = self._buffers.get(key)
        if cached is None:
            cached = self._buffers[key] = self._new_buffers(rates, shape)
        draws, fill, threshold, mask = cached
        for k, rate in enumerate(rates):
            if rate != 0.0:
                self._draw(first + k, fill[k] if counts is None else fill[k, : counts[k]])
        torch.ge(draws, threshold, out=mask)
        return mask if scale is None else mask.mul_(scale)

    def keep_member(self, member: int, rate: float, shape, *, layer: str, scale: float = 1.0):
        """One member's mask of ``shape`` (no member axis), for a layer inside a user
        module that runs member by member; drawn as :meth:`keep` draws that member's."""
        key = (layer, "member", tuple(shape))
        cached = self._buffers.get(key)
        if cached is None:
            cached = self._buffers[key] = self._new_buffers([rate], (1, *shape))
        draws, fill, _, mask = cached
        if rate != 0.0:
            self._draw(member, fill[0])
        torch.ge(draws, self._threshold(rate) if self.on_cpu else rate, out=mask)
        return mask[0] if scale == 1.0 else mask[0].mul_(scale)

    def normal(self, shape, counts, members=None, first: int = 0) -> torch.Tensor:
        """Standard normal draws ``(K, ...)``: each member's real rows from its own stream,
        zero elsewhere; ``members`` (population indices) limits the draws to those
        members. ``shape[0]`` members from ``first`` on (their ``counts``) are drawn for."""
        out = torch.zeros(shape, device=self.device)
        chosen = range(first, first + shape[0]) if members is None else members
        for member in chosen:
            k = member - first
            if not 0 <= k < shape[0]:
                continue
            rows = shape[1] if counts is None else counts[k]
            if rows:
                out[k, :rows] = self.normal_member(member, (rows, *shape[2:]))
        return out

    def normal_member(self, member: int, shape) -> torch.Tensor:
        """Standard normal draws of ``shape`` from one member's noise stream."""
        return torch.randn(shape, generator=self.noise[member], device=self.device)

    @staticmethod
    def _threshold(rate: float) -> int:
        return min(round(rate * 2**32) - 2**31, _INT32_MAX)

    def _new_buffers(self, rates, shape):
        column = (-1, *[1] * (len(shape) - 1))
        mask = torch.empty(shape, device=self.device)
        if not self.on_cpu:
            draws = torch.ones(shape, device=self.device)
            return draws, draws, torch.tensor(rates, device=self.device).view(column), mask
        # Signed lanes: kept when lane + 2**31 >= rate * 2**32. A member that never
        # draws keeps its lanes at the maximum, so all its units are kept.
        draws = torch.full(shape, _INT32_MAX, dtype=torch.int32)
        limits = [self._threshold(r) for r in rates]
        threshold = torch.tensor(limits, dtype=torch.int32).view(column)
        return draws, draws.numpy(), threshold, mask

    def _draw(self, k: int, target) -> None:
        generator = self.generators[k]
        if not self.on_cpu:
            if target.numel():
                target.uniform_(generator=generator)
            return
        n = target.size
        if n:  # target is a contiguous NumPy view of the member's rows
            target.reshape(-1)[:] = generator.random_raw((n + 1) // 2).view(np.int32)[:n]
